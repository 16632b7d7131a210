import datetime as dt

from django import template
from django.utils.translation import gettext as _

from core import clock
from supervision.calendar import WorkingCalendar, calendar_warning
from supervision.choices import Light
from supervision.selectors import light_of

register = template.Library()


@register.simple_tag
def working_calendar_warning() -> str | None:
    """The warning for years whose holidays nobody has entered (shown in the admin and dashboard)."""
    return calendar_warning(today=clock.today())


@register.inclusion_tag("components/light.html")
def light(node_or_light) -> dict:
    """A node's status light (a node annotated by nodes_with_card, or a Light): colour and word."""
    if isinstance(node_or_light, str):
        return {"light": Light(node_or_light)}
    return {"light": light_of(node_or_light)}


@register.simple_tag(takes_context=True)
def deadline_hint(context, day: dt.date | None) -> str:
    """还剩 N 个工作日, 今天到期 or 已超期 N 天, for a deadline that matters."""
    if day is None:
        return ""
    today = clock.today()
    if day == today:
        return _("今天到期")
    if day < today:
        return _("已超期 %(n)s 天") % {"n": (today - day).days}
    holder = context.get("request") or context.render_context
    calendar = getattr(holder, "_working_calendar", None)
    if calendar is None:
        calendar = WorkingCalendar.load()
        holder._working_calendar = calendar
    left = sum(
        1
        for offset in range(1, (day - today).days + 1)
        if calendar.is_workday(today + dt.timedelta(days=offset))
    )
    return _("还剩 %(n)s 个工作日") % {"n": left}
