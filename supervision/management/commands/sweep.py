import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from supervision.services import sweep_run


class Command(BaseCommand):
    help = "Run one pass of the escalation sweep as of an instant (default: now)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="the instant, ISO 8601 with offset, e.g. 2026-12-03T00:00+08:00"
        )

    def handle(self, *args, now=None, **options):
        as_of = None
        if now:
            as_of = parse_datetime(now)
            if as_of is None:
                try:
                    as_of = dt.datetime.fromisoformat(now)
                except ValueError:
                    as_of = None
            if as_of is None or as_of.tzinfo is None:
                raise CommandError("--now 须为带时区的 ISO 8601 时刻，例如 2026-12-03T00:00+08:00")
        run = sweep_run(as_of=as_of)
        self.stdout.write(run.counts.line())
        if run.error:
            raise CommandError(run.error.strip().splitlines()[-1])
