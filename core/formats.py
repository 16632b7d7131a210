"""Dates and points as county staff write them (ui.md, "The words and the lights").

One definition for the pages (core_tags) and for the texts services store (notifications,
points-entry reasons, node events), which are written once and read later: they take the
day they are written as `today` instead of reading the clock.
"""

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# Marked for makemessages; translated when used.
WEEKDAYS = (
    gettext_noop("周一"),
    gettext_noop("周二"),
    gettext_noop("周三"),
    gettext_noop("周四"),
    gettext_noop("周五"),
    gettext_noop("周六"),
    gettext_noop("周日"),
)


def date_cn(value: dt.date, *, today: dt.date, weekday: bool = True) -> str:
    """12月2日（周三）; with the year when it is not today's (2027年1月5日（周二））.

    Without the weekday: 12月2日, for a date that has passed rather than one to act by.
    """
    parts = {"y": value.year, "m": value.month, "d": value.day}
    if weekday:
        parts["w"] = _(WEEKDAYS[value.weekday()])
        if value.year == today.year:
            return _("%(m)s月%(d)s日（%(w)s）") % parts
        return _("%(y)s年%(m)s月%(d)s日（%(w)s）") % parts
    if value.year == today.year:
        return _("%(m)s月%(d)s日") % parts
    return _("%(y)s年%(m)s月%(d)s日") % parts


def points_text(value) -> str:
    """Points without trailing zeros: 1, 2, 0.5, 10."""
    return format(Decimal(value).normalize(), "f")
