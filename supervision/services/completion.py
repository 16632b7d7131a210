"""What follows when a node is done, whichever way its completion is recorded."""

import datetime as dt

from django.utils.translation import gettext as _

from nodetrack.audit import audited_save
from organization.models import User
from projects.models import Node

from ..choices import ItemStatus
from ..models import SupervisionItem
from .escalation import nodes_refresh_escalation
from .records import recommitments_lapse_pending


def node_completion_follow_up(*, node: Node, actor: User, at: dt.datetime) -> None:
    """An open supervision item becomes ready to close; a pending recommitment lapses.

    The caller holds the node's row lock; the rows written here are locked after it.
    """
    for item in SupervisionItem.objects.select_for_update(of=("self",)).filter(
        node=node, status=ItemStatus.OPEN, ready_to_close_at__isnull=True
    ):
        item.ready_to_close_at = at
        audited_save(item, actor=actor, reason=_("节点已办结，可销号"))
    recommitments_lapse_pending(
        node=node, actor=actor, at=at, reason=_("节点已办结，重新承诺无需审批")
    )
    nodes_refresh_escalation(node_ids=[node.pk])
