"""Every write about escalation: the sweep, recommitments, revocations, supervision items, notifications."""

from .calendar_days import calendar_day_delete, calendar_day_save
from .cards import card_revoke
from .escalation import nodes_refresh_escalation, sweep_run
from .items import (
    supervision_item_add_inspection,
    supervision_item_close,
    supervision_item_set_deadline,
)
from .nodes import (
    node_archive,
    node_backdate_card,
    node_change_due_date,
    node_complete,
    project_archive,
)
from .notifications import (
    notifications_create,
    notifications_deliver,
    notifications_deliver_all,
    notifications_mark_all_read,
)
from .recommitments import recommitment_decide, recommitment_submit

__all__ = [
    "calendar_day_delete",
    "calendar_day_save",
    "card_revoke",
    "node_backdate_card",
    "node_archive",
    "node_change_due_date",
    "project_archive",
    "node_complete",
    "nodes_refresh_escalation",
    "notifications_mark_all_read",
    "notifications_create",
    "notifications_deliver",
    "notifications_deliver_all",
    "recommitment_decide",
    "recommitment_submit",
    "supervision_item_add_inspection",
    "supervision_item_close",
    "supervision_item_set_deadline",
    "sweep_run",
]
