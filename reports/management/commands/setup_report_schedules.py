import datetime as dt

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from core import clock

MONTHLY_BULLETIN_NAME = "nodetrack.bulletin_monthly"
# 08:00 county time is 00:00 UTC. django-q2 adds a month to the stored (UTC) instant:
# at 07:00 county time (23:00 UTC, the day before) the 1st would be the 30th or 31st in
# UTC, and the runs would slide to the 30th, the 28th... An hour later the UTC date is the
# county's, and every run stays on the 1st.
MONTHLY_BULLETIN_AT = dt.time(8, 0)


def next_first_of_month(now: dt.datetime) -> dt.datetime:
    """The next 1st of a month at MONTHLY_BULLETIN_AT county time, after `now`."""
    today = clock.local_date(now)
    first = today.replace(day=1)
    candidate = dt.datetime.combine(first, MONTHLY_BULLETIN_AT, tzinfo=clock.local_tz())
    if candidate <= now:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        candidate = dt.datetime.combine(following, MONTHLY_BULLETIN_AT, tzinfo=clock.local_tz())
    return candidate


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedule of the monthly bulletin: last month's "
        "bulletin as a draft, on the 1st of each month at 08:00 county time (idempotent)."
    )

    def handle(self, *args, **options):
        # Q_CLUSTER["catch_up"] is False: after downtime the month's run fires once.
        schedule, created = Schedule.objects.update_or_create(
            name=MONTHLY_BULLETIN_NAME,
            defaults={
                "func": "reports.tasks.bulletin_monthly",
                "schedule_type": Schedule.MONTHLY,
                "repeats": -1,
            },
        )
        Schedule.objects.filter(name=MONTHLY_BULLETIN_NAME).exclude(pk=schedule.pk).delete()
        local = schedule.next_run and schedule.next_run.astimezone(clock.local_tz())
        on_time = local and local.day == 1 and local.time() == MONTHLY_BULLETIN_AT
        if created or not on_time:
            schedule.next_run = next_first_of_month(clock.now())
            schedule.save(update_fields=["next_run"])
        verb = "created" if created else "up to date"
        when = schedule.next_run.astimezone(clock.local_tz())
        self.stdout.write(
            f"schedule {MONTHLY_BULLETIN_NAME}: monthly, next {when:%Y-%m-%d %H:%M}, {verb}"
        )
