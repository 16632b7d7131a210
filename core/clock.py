"""Local time of the county (Asia/Shanghai): the one place that turns dates into instants."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def now() -> dt.datetime:
    return timezone.now()


def local_date(instant: dt.datetime) -> dt.date:
    """The county's calendar date at an aware instant."""
    return instant.astimezone(local_tz()).date()


def today() -> dt.date:
    return local_date(now())


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 local time on `day`, as an aware instant."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())


def end_of_day_instant(day: dt.date) -> dt.datetime:
    """The instant a deadline on `day` is breached: 00:00 local time the day after."""
    return start_of_day(day + dt.timedelta(days=1))
