from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

SWEEP_NAME = "nodetrack.sweep"


class Command(BaseCommand):
    help = "Create or update the django-q2 schedule of the escalation sweep (idempotent)."

    def handle(self, *args, **options):
        minutes = settings.NODETRACK_SWEEP_MINUTES
        # Q_CLUSTER["catch_up"] is False: after downtime the sweep runs once and works the
        # backlog out from the facts, instead of firing once per missed interval.
        schedule, created = Schedule.objects.update_or_create(
            name=SWEEP_NAME,
            defaults={
                "func": "supervision.tasks.sweep",
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
        Schedule.objects.filter(name=SWEEP_NAME).exclude(pk=schedule.pk).delete()
        if created or schedule.next_run is None:
            schedule.next_run = timezone.now()
            schedule.save(update_fields=["next_run"])
        verb = "created" if created else "up to date"
        self.stdout.write(f"schedule {SWEEP_NAME}: every {minutes} min, {verb}")
