from django import template

from core import clock
from supervision.calendar import calendar_warning

register = template.Library()


@register.simple_tag
def working_calendar_warning() -> str | None:
    """The warning for years whose holidays nobody has entered (shown in the admin and dashboard)."""
    return calendar_warning(today=clock.today())
