"""Append-only node events and the system account that automatic writes are recorded under."""

import datetime as dt

from django.conf import settings

from nodetrack.audit import audited_save
from organization.models import User
from projects.models import Node

from ..choices import NodeEventKind, RecommitmentStatus
from ..models import NodeEvent, Recommitment


def system_user() -> User:
    """The account the sweep and other automatic writes are recorded under."""
    return User.objects.get(username=settings.NODETRACK_SYSTEM_USERNAME)


def node_event_record(
    *, node: Node, kind: str, actor: User | None, at: dt.datetime, message: str, **data
) -> NodeEvent:
    """Append one business fact to a node's timeline."""
    return NodeEvent.objects.create(
        node=node, kind=kind, actor=actor, occurred_at=at, message=message[:500], data=data
    )


def recommitments_lapse_pending(*, node: Node, actor: User, at: dt.datetime, reason: str) -> int:
    """A pending recommitment that nobody needs to decide any more lapses, with the reason.

    The caller holds the node's row lock; the recommitment is locked after it, the order
    recommitment_decide takes too, and its status is read under that lock.
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
        lapsed += 1
    return lapsed
