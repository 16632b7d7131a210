"""Revoking a wrong card: the card stays, marked revoked, and a compensating entry restores the points."""

from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.i18n import in_record_language
from core.text import text_clean
from organization.models import User
from organization.permissions import Action, require
from projects.choices import NodeEventKind
from projects.services import node_event_record, node_lock
from scoring.choices import EntryKind
from scoring.models import PointsEntry

from ..choices import CardKind, ItemStatus
from ..models import Card, SupervisionItem
from .escalation import nodes_refresh_escalation
from .records import recommitments_lapse_pending


@in_record_language
@transaction.atomic
def card_revoke(*, card: Card, actor: User, reason: str) -> Card:
    """The supervision office revokes a card with a reason; its points come back, dated as the card."""
    require(actor, Action.SUPERVISE, message=_("只有督查办可以撤销亮牌。"))
    reason = text_clean(reason, field="reason", label=_("撤销理由"))
    # The node first, then its rows: the order the sweep and the other services lock in.
    node = node_lock(Card.objects.filter(pk=card.pk).values_list("node_id", flat=True).get())
    card = (
        Card.objects.select_for_update(of=("self",)).select_related("node", "unit").get(pk=card.pk)
    )
    if card.is_revoked:
        raise Conflict(_("该亮牌已被撤销。"), "already_revoked")
    if (
        card.kind == CardKind.YELLOW
        and Card.objects.filter(node=card.node, kind=CardKind.RED, revoked_at__isnull=True).exists()
    ):
        raise Conflict(_("该节点还有红牌，请先撤销红牌。"), "red_first")

    now = clock.now()
    # Dated at the breach, so the score of the period the card hit is restored.
    card.reversal = PointsEntry.objects.create(
        unit=card.unit,
        node_id=card.node_id,
        kind=EntryKind.CARD_REVERSAL,
        points=card.points,
        rule_version=card.rule_version,
        occurred_at=card.breached_at,
        created_by=actor,
        reason=_("撤销%(kind)s（%(node)s）：%(reason)s")
        % {"kind": card.get_kind_display(), "node": card.node, "reason": reason},
    )
    # Revoking a yellow card ends its cycle: the date approved in it no longer rules.
    old = node.committed_due_date if card.kind == CardKind.YELLOW else None
    extra = {"old_committed_due_date": old.isoformat()} if old else {}
    card.revoked_at = now
    card.revoked_by = actor
    card.revoke_reason = reason
    audited_save(card, actor=actor, reason=_("撤销亮牌"))
    node_event_record(
        node=card.node,
        kind=NodeEventKind.CARD_REVOKED,
        actor=actor,
        at=now,
        message=_("撤销%(kind)s：%(reason)s") % {"kind": card.get_kind_display(), "reason": reason},
        card=card.pk,
        **extra,
    )
    item = (
        SupervisionItem.objects.select_for_update(of=("self",))
        .filter(card=card, status=ItemStatus.OPEN)
        .first()
    )
    if item is not None:
        item.status = ItemStatus.CLOSED
        item.closed_at = now
        item.closed_by = actor
        item.close_note = _("红牌已撤销：%(reason)s") % {"reason": reason}
        audited_save(item, actor=actor, reason=item.close_note)
    if card.kind == CardKind.YELLOW:
        recommitments_lapse_pending(
            node=card.node, actor=actor, at=now, reason=_("黄牌已撤销，重新承诺无需审批")
        )
    if old is not None:
        node.committed_due_date = None
        audited_save(
            node,
            actor=actor,
            reason=_("撤销亮牌"),
            update_fields=["committed_due_date", "updated_at"],
        )
    nodes_refresh_escalation(node_ids=[card.node_id])
    return card
