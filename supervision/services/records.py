"""Append-only node events and the system account that automatic writes are recorded under."""

import datetime as dt

from django.conf import settings

from organization.models import User
from projects.models import Node

from ..models import NodeEvent


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
