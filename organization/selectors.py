"""Reads about people: what roles a user holds and which units they answer for."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q

from .choices import Role
from .models import ApiToken, RoleAssignment, User


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything, or the units they work for or are in charge of."""

    sees_all: bool = False
    staff_unit_ids: frozenset[int] = field(default_factory=frozenset)
    leader_unit_ids: frozenset[int] = field(default_factory=frozenset)
    is_principal: bool = False
    is_supervisor: bool = False
    is_leader: bool = False
    user_id: int | None = None

    @property
    def unit_ids(self) -> frozenset[int]:
        return self.staff_unit_ids | self.leader_unit_ids

    def can_decide_for_unit(self, unit_id: int) -> bool:
        """Leaders in charge of the unit, and principal leaders, decide its recommitments."""
        return self.is_principal or unit_id in self.leader_unit_ids


def user_scope(*, user: User) -> Scope:
    """The scope of a signed-in user, from their role assignments (cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_nodetrack_scope", None)
    if cached is not None:
        return cached
    staff, leader = set(), set()
    roles = set()
    for role, unit_id in RoleAssignment.objects.filter(user=user).values_list("role", "unit_id"):
        roles.add(role)
        if role == Role.STAFF:
            staff.add(unit_id)
        elif role == Role.LEADER:
            leader.add(unit_id)
    is_principal = Role.PRINCIPAL in roles
    is_supervisor = Role.SUPERVISOR in roles
    scope = Scope(
        sees_all=is_principal or is_supervisor or user.is_superuser,
        staff_unit_ids=frozenset(staff),
        leader_unit_ids=frozenset(leader),
        is_principal=is_principal,
        is_supervisor=is_supervisor,
        is_leader=bool(leader) or is_principal,
        user_id=user.pk,
    )
    user._nodetrack_scope = scope
    return scope


def unit_staff(*, unit_id: int):
    """Active staff of a unit."""
    return User.objects.filter(
        is_active=True, role_assignments__role=Role.STAFF, role_assignments__unit_id=unit_id
    ).distinct()


def unit_leaders(*, unit_id: int):
    """Active leaders in charge of a unit."""
    return User.objects.filter(
        is_active=True, role_assignments__role=Role.LEADER, role_assignments__unit_id=unit_id
    ).distinct()


def units_people(*, unit_ids, roles) -> dict[int, set[int]]:
    """The ids of the active people holding one of `roles` in each unit, with one query."""
    people: dict[int, set[int]] = {unit_id: set() for unit_id in unit_ids}
    for unit_id, user_id in (
        RoleAssignment.objects.filter(unit_id__in=people, role__in=roles, user__is_active=True)
        .order_by()
        .values_list("unit_id", "user_id")
    ):
        people[unit_id].add(user_id)
    return people


def recommitment_approvers(*, unit_id: int):
    """Who may decide a unit's recommitment: its leaders in charge and every principal leader."""
    return User.objects.filter(
        Q(role_assignments__role=Role.LEADER, role_assignments__unit_id=unit_id)
        | Q(role_assignments__role=Role.PRINCIPAL),
        is_active=True,
    ).distinct()


def supervision_office():
    """Active members of the supervision office."""
    return User.objects.filter(is_active=True, role_assignments__role=Role.SUPERVISOR).distinct()


def system_user() -> User:
    """The account the sweep and other automatic writes are recorded under."""
    return User.objects.get(username=settings.NODETRACK_SYSTEM_USERNAME)


def people_without_login(*, full_name: str):
    """Active people of that name who cannot sign in: no usable password, no live API token.

    A ledger import records an unknown 包保领导 this way; add_user later gives them a login.
    Superusers and the system account never count, whatever their password.
    """
    return (
        User.objects.filter(
            full_name=full_name,
            is_active=True,
            is_superuser=False,
            password__startswith=UNUSABLE_PASSWORD_PREFIX,
        )
        .exclude(username=settings.NODETRACK_SYSTEM_USERNAME)
        .exclude(pk__in=ApiToken.objects.filter(revoked_at__isnull=True).values("user_id"))
        .order_by("pk")
    )
