"""How the pages write dates and points for county staff (ui.md, "The words and the lights")."""

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock

register = template.Library()

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@register.filter
def cn_date(value) -> str:
    """12月2日（周三）; with the year when it is not the current one (2027年1月5日（周二））."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    weekday = _(WEEKDAYS[value.weekday()])
    if value.year == clock.today().year:
        return _("%(m)s月%(d)s日（%(w)s）") % {"m": value.month, "d": value.day, "w": weekday}
    return _("%(y)s年%(m)s月%(d)s日（%(w)s）") % {
        "y": value.year,
        "m": value.month,
        "d": value.day,
        "w": weekday,
    }


@register.filter
def cn_datetime(value) -> str:
    """12月2日（周三）14:05 in county time."""
    if value in (None, ""):
        return ""
    local = timezone.localtime(value)
    return f"{cn_date(local)}{local:%H:%M}"


@register.filter
def points(value) -> str:
    """Points without trailing zeros: 1, 2, 0.5."""
    if value in (None, ""):
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


@register.filter
def iso_date(value) -> str:
    """YYYY-MM-DD, for date inputs and exports."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()
