"""Who may do what: the one place where a role is turned into a permission.

Services call `require` before they write; pages and the admin call `may` to decide what
to offer. Reporting on a node belongs to its unit's staff; deciding a recommitment to the
unit's leaders in charge and the principal leaders; judging (revoking a card, moving a
deadline, running the priority list) to the supervision office alone, since it moves
people's assessments; keeping the reference data (calendar, templates, rules) to the
office and the administrators; recording facts taken from elsewhere (a ledger, a
correction) and moving a node's planned date to the office and the system account.
"""

import enum

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from .selectors import user_scope


class Action(enum.Enum):
    REPORT = "report"
    DECIDE = "decide"
    SUPERVISE = "supervise"
    MAINTAIN = "maintain"
    PLAN = "plan"


DENIED = {
    Action.REPORT: _("只有责任单位的经办人可以填报该节点。"),
    Action.DECIDE: _("只有该单位的分管领导或主要领导可以审批。"),
    Action.SUPERVISE: _("只有督查办可以执行该操作。"),
    Action.MAINTAIN: _("只有督查办或系统管理员可以维护该内容。"),
    Action.PLAN: _("只有督查办可以调整节点计划或补录办结。"),
}


def is_system_account(user) -> bool:
    """The account automatic writes (the sweep, imports from the command line) are made under."""
    return getattr(user, "username", None) == settings.NODETRACK_SYSTEM_USERNAME


def may(user, action: Action, *, unit_id: int | None = None) -> bool:
    """Whether `user` may take `action` (on the unit `unit_id`, for unit-bound actions)."""
    scope = user_scope(user=user)
    if action is Action.REPORT:
        return unit_id in scope.staff_unit_ids
    if action is Action.DECIDE:
        return scope.can_decide_for_unit(unit_id)
    if action is Action.SUPERVISE:
        return scope.is_supervisor
    if action is Action.MAINTAIN:
        return scope.is_supervisor or (scope.user_id is not None and user.is_superuser)
    if action is Action.PLAN:
        return scope.is_supervisor or is_system_account(user)
    raise ValueError(action)


def require(user, action: Action, *, unit_id: int | None = None, message=None) -> None:
    """Raise PermissionDenied (with a message in Chinese) unless `user` may take `action`."""
    if not may(user, action, unit_id=unit_id):
        raise PermissionDenied(str(message or DENIED[action]))
