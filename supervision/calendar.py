"""Working days: the office's own entries, then the official calendar package, then Monday–Friday."""

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext as _

from .models import CalendarDay


class WorkingCalendar:
    """Answers "is this a working day?": the office's entries, the package, then Monday–Friday."""

    def __init__(self, overrides: dict[dt.date, bool]):
        self.overrides = overrides
        self.entered_years = {d.year for d in overrides}
        self._known: dict[dt.date, bool] = {}  # answers given, the package's included

    @classmethod
    def load(cls) -> "WorkingCalendar":
        """The calendar with every day the office entered (a small table, read whole)."""
        return cls(dict(CalendarDay.objects.values_list("date", "is_workday")))

    def is_workday(self, day: dt.date) -> bool:
        # A pass asks about the same few days for every card: the package's answer is kept.
        answer = self._known.get(day)
        if answer is None:
            answer = self._known[day] = self._is_workday(day)
        return answer

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def knows_year(self, year: int) -> bool:
        """A year is known when the office entered it or the packaged calendar covers it."""
        if year in self.entered_years:
            return True
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 30))
        except NotImplementedError:
            return False
        return True


def calendar_unknown_years(*, today: dt.date) -> list[int]:
    """This year and next, where neither the office nor the package knows the holidays."""
    calendar = WorkingCalendar.load()
    return [y for y in (today.year, today.year + 1) if not calendar.knows_year(y)]


def calendar_warning(*, today: dt.date) -> str | None:
    """The warning the admin and the dashboard show for years worked out as Monday–Friday."""
    years = calendar_unknown_years(today=today)
    if not years:
        return None
    names = _("、").join(_("%(year)s年") % {"year": y} for y in years)
    return _(
        "%(years)s的法定节假日安排尚未录入，工作日暂按周一至周五计算。"
        "请督查办在“节假日安排”中录入国务院办公厅通知。"
    ) % {"years": names}
