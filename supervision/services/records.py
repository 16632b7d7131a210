"""Lapsing the recommitments nobody needs to decide any more."""

import datetime as dt

from core.audit import audited_save
from organization.models import User
from projects.choices import NodeEventKind
from projects.models import Node
from projects.services import node_event_record

from ..choices import RecommitmentStatus
from ..models import Recommitment
from .notifications import notifications_settle, recommitment_waiting_key


def recommitments_lapse_pending(*, node: Node, actor: User, at: dt.datetime, reason: str) -> int:
    """A pending recommitment that nobody needs to decide any more lapses, with the reason;
    its approvers' "待您审批" notifications are marked read.

    The caller holds the node's row lock; the recommitments are locked after it, the one
    order every writer follows, so a leader's decision and a lapse never both stand.
    """
    lapsed = 0
    for rec in Recommitment.objects.select_for_update(of=("self",)).filter(
        node=node, status=RecommitmentStatus.PENDING
    ):
        rec.status = RecommitmentStatus.LAPSED
        rec.decided_at = at
        rec.comment = reason
        audited_save(rec, actor=actor, reason=reason)
        node_event_record(
            node=node,
            kind=NodeEventKind.RECOMMITMENT_LAPSED,
            actor=actor,
            at=at,
            message=reason,
            recommitment=rec.pk,
        )
        notifications_settle(event_key=recommitment_waiting_key(rec.pk), at=at)
        lapsed += 1
    return lapsed
