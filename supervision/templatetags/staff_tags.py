"""How the unit staff's pages write a history value."""

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from core.templatetags.core_tags import cn_date, cn_datetime

register = template.Library()


@register.filter
def change_value(value) -> str:
    """A value of the node's change history as people read it: dates in Chinese, blanks as —."""
    if value is None or value == "":
        return _("（空）")
    if isinstance(value, dt.datetime):
        return cn_datetime(value)
    if isinstance(value, dt.date):
        return cn_date(value)
    return str(value)
