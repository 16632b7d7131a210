"""Template filters of the bulletins: dates written out in full, as an official document does."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def full_date(value) -> str:
    """2026年11月30日 (with the year, always: a bulletin is read long after)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return _("%(y)s年%(m)s月%(d)s日") % {"y": value.year, "m": value.month, "d": value.day}
