"""How the pages write dates and points for county staff (ui.md, "The words and the lights")."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from core.formats import date_cn, points_text

register = template.Library()


@register.filter
def cn_date(value) -> str:
    """12月2日（周三）; with the year when it is not the current one (2027年1月5日（周二））."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return date_cn(value, today=clock.today())


@register.filter
def cn_datetime(value) -> str:
    """12月2日（周三）14:05 in county time."""
    if value in (None, ""):
        return ""
    local = timezone.localtime(value)
    return _("%(date)s%(time)s") % {"date": cn_date(local), "time": f"{local:%H:%M}"}


@register.filter
def points(value) -> str:
    """Points without trailing zeros: 1, 2, 0.5."""
    if value in (None, ""):
        return ""
    return points_text(value)


@register.filter
def iso_date(value) -> str:
    """YYYY-MM-DD, for date inputs and exports."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()
