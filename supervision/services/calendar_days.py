"""The office's own holiday entries; a change moves grace windows, so affected nodes are looked at again."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audited_save
from core.i18n import in_record_language
from organization.models import User
from organization.permissions import Action, require
from projects.models import Node

from ..choices import CardKind
from ..models import CalendarDay, Card
from .facts import ESCALATION_SETTLED


def _nodes_in_grace_refresh() -> int:
    """Nodes whose next card may hang on the calendar: yellow, not red, not settled."""
    return (
        Node.objects.filter(cards__kind=CardKind.YELLOW, cards__revoked_at__isnull=True)
        .exclude(
            pk__in=Card.objects.filter(kind=CardKind.RED, revoked_at__isnull=True).values("node_id")
        )
        .exclude(next_escalation_at=ESCALATION_SETTLED)
        .update(next_escalation_at=None)
    )


@in_record_language
@transaction.atomic
def calendar_day_save(
    *,
    actor: User,
    date: dt.date,
    is_workday: bool,
    name: str = "",
    instance: CalendarDay | None = None,
) -> CalendarDay:
    """Enter or change one day of the official calendar (a holiday or a make-up working day)."""
    require(actor, Action.MAINTAIN, message=_("只有督查办可以维护节假日安排。"))
    day = instance or CalendarDay()
    day.date, day.is_workday, day.name = date, is_workday, name.strip()
    day.full_clean()
    audited_save(day, actor=actor, reason=_("维护节假日安排"))
    _nodes_in_grace_refresh()
    return day


@in_record_language
@transaction.atomic
def calendar_day_delete(*, actor: User, day: CalendarDay) -> None:
    """Remove an entry; the packaged calendar (or Monday–Friday) applies to that day again."""
    require(actor, Action.MAINTAIN, message=_("只有督查办可以维护节假日安排。"))
    day.delete()
    _nodes_in_grace_refresh()
