import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

from core import clock

SWEEP_NAME = "nodetrack.sweep"
DIGEST_NAME = "nodetrack.lagging_digest"
EMAIL_NAME = "nodetrack.email"
EMAIL_MINUTES = 5  # the first retry of a refused copy is due 5 minutes later
DIGEST_AT = dt.time(8, 0)  # Monday, county time


def next_monday_morning(now: dt.datetime) -> dt.datetime:
    """The next Monday 08:00 county time at or after `now` (today's, if not yet past)."""
    today = clock.local_date(now)
    day = today + dt.timedelta(days=-today.weekday() % 7)
    at = dt.datetime.combine(day, DIGEST_AT, tzinfo=clock.local_tz())
    if at < now:
        at += dt.timedelta(weeks=1)
    return at


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules of the escalation sweep, of the e-mail "
        "copies' delivery and of the weekly digest of lagging nodes (idempotent)."
    )

    def handle(self, *args, **options):
        # Q_CLUSTER["catch_up"] is False: after downtime the sweep runs once and works the
        # backlog out from the facts, instead of firing once per missed interval.
        self._every(SWEEP_NAME, "supervision.tasks.sweep", settings.NODETRACK_SWEEP_MINUTES)
        # E-mail copies: each sweep that made notifications queues their delivery; this
        # schedule sends the retries whose time has come, and anything a crash left.
        self._every(EMAIL_NAME, "supervision.tasks.email_deliver", EMAIL_MINUTES)

        # The weekly digest: every Monday at 08:00 county time. Each unit hears once per ISO
        # week (the notifications' event key), so a late or repeated run sends nothing twice.
        digest, created = Schedule.objects.update_or_create(
            name=DIGEST_NAME,
            defaults={
                "func": "supervision.tasks.lagging_digest",
                "schedule_type": Schedule.WEEKLY,
                "repeats": -1,
            },
        )
        Schedule.objects.filter(name=DIGEST_NAME).exclude(pk=digest.pk).delete()
        if created or digest.next_run is None:
            digest.next_run = next_monday_morning(timezone.now())
            digest.save(update_fields=["next_run"])
        verb = "created" if created else "up to date"
        self.stdout.write(
            f"schedule {DIGEST_NAME}: weekly from {clock.local_date(digest.next_run):%Y-%m-%d} "
            f"08:00, {verb}"
        )

    def _every(self, name: str, func: str, minutes: int) -> None:
        """One schedule every `minutes`, created or brought up to date; first run now."""
        schedule, created = Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
        Schedule.objects.filter(name=name).exclude(pk=schedule.pk).delete()
        if created or schedule.next_run is None:
            schedule.next_run = timezone.now()
            schedule.save(update_fields=["next_run"])
        verb = "created" if created else "up to date"
        self.stdout.write(f"schedule {name}: every {minutes} min, {verb}")
