"""Template context for every page: who is signed in, what their roles let them open, unread notifications."""

from core import clock
from organization.choices import Role
from organization.permissions import Action, may
from organization.selectors import user_scope

from .calendar import calendar_warning
from .selectors import notification_unread_count


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = user_scope(user=user)
    roles = []
    if scope.staff_unit_ids:
        roles.append(Role.STAFF.label)
    if scope.leader_unit_ids:
        roles.append(Role.LEADER.label)
    if scope.is_principal:
        roles.append(Role.PRINCIPAL.label)
    if scope.is_supervisor:
        roles.append(Role.SUPERVISOR.label)
    keeps_calendar = may(user, Action.MAINTAIN)
    return {
        "unread_notifications": notification_unread_count(user=user),
        "nav": {
            "staff": bool(scope.staff_unit_ids),
            "leader": scope.is_leader,
            "office": scope.is_supervisor,
            "admin": user.is_staff,
            "roles": roles,
        },
        # The holiday-calendar warning goes to those who can act on it.
        "calendar_warning": calendar_warning(today=clock.today()) if keeps_calendar else None,
    }
