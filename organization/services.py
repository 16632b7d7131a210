"""Writes about people: accounts, their roles and their API tokens."""

import logging
import re

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import Role
from .models import ApiToken, RoleAssignment, Unit, User
from .selectors import people_without_login

# What Django's username validator refuses (it takes letters, digits and @ . + - _).
USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
logger = logging.getLogger(__name__)


@transaction.atomic
def user_ensure(
    *,
    username: str,
    password: str,
    full_name: str | None = None,
    email: str | None = None,
    actor: User | None,
) -> tuple[User, bool]:
    """Create the account, or bring its password, name and e-mail to the given values.

    Returns the user and whether anything was written. `None` for full_name or email
    leaves the stored value alone.

    A new username with a full name that exactly one person without a login bears (a
    包保领导 a ledger import recorded) gives that person the login, so the projects they
    lead stay theirs. Two such people of that name is an error: nobody is guessed. An
    account that can already sign in is never taken over by its name.
    """
    user = User.objects.select_for_update().filter(username=username).first()
    created = user is None
    if created and full_name:
        people = list(people_without_login(full_name=full_name).select_for_update())
        if len(people) > 1:
            raise ValidationError(
                _(
                    "系统中有%(count)s位未开通登录的人员姓名为“%(name)s”，无法确定是哪一位，"
                    "请在管理后台核对后再开通。"
                )
                % {"count": len(people), "name": full_name},
                code="ambiguous_person",
            )
        if people:
            user, created = people[0], False
    changed = created
    if created:
        user = User(username=username)
    elif user.username != username:  # a person without a login gets one
        user.username = username
        changed = True
    if full_name is not None and user.full_name != full_name:
        user.full_name = full_name
        changed = True
    if email is not None and user.email != email:
        user.email = email
        changed = True
    # hashers.check_password, not user.check_password: the latter may re-hash and save.
    if created or not check_password(password, user.password):
        password_validation.validate_password(password, user)
        user.set_password(password)
        changed = True
    if not changed:
        return user, False
    user.full_clean()
    user._history_user = actor
    user.save()
    return user, True


@transaction.atomic
def person_without_login_create(
    *, full_name: str, actor: User | None, reason: str = "", username_prefix: str = ""
) -> User:
    """Record a person who cannot sign in yet (a ledger's unknown 包保领导); add_user gives a login.

    Active, so they stand as the leader of their projects under their name, but with an
    unusable password: nobody signs in as them until add_user gives them a login. The
    username is the prefix and the name (what a username may hold of it), numbered when
    taken; a prefix keeps it from being the bare name, which would match before full names.
    """
    base = username_prefix + (USERNAME_UNSAFE.sub("", full_name) or "person")
    username, number = base, 1
    while User.objects.filter(username=username).exists():
        number += 1
        username = f"{base}-{number}"
    user = User(username=username, full_name=full_name)
    user.set_unusable_password()
    user.full_clean()
    user._history_user = actor
    if reason:
        user._change_reason = reason
    user.save()
    return user


@transaction.atomic
def role_assign(
    *, user: User, role: str, unit: Unit | None = None, actor: User | None
) -> tuple[RoleAssignment, bool]:
    """Give the user a role (for a unit if the role is unit-bound); returns it, and True if new."""
    if role not in Role.values:
        raise ValidationError(_("未知角色：%(role)s") % {"role": role}, code="unknown_role")
    if role in Role.unit_bound() and unit is None:
        raise ValidationError(
            _("角色“%(role)s”须指定单位。") % {"role": Role(role).label}, code="unit_required"
        )
    if role not in Role.unit_bound() and unit is not None:
        raise ValidationError(
            _("角色“%(role)s”为全县范围，不能指定单位。") % {"role": Role(role).label},
            code="unit_forbidden",
        )
    if role == Role.SUPERVISOR:
        _admin_access_grant(user=user, actor=actor)
    existing = RoleAssignment.objects.filter(user=user, role=role, unit=unit).first()
    if existing is not None:
        return existing, False
    assignment = RoleAssignment(user=user, role=role, unit=unit)
    assignment.full_clean()
    assignment._history_user = actor
    assignment.save()
    if warning := role_duties_warning(user=user, unit=unit):
        logger.warning("%s (user=%s, unit=%s, actor=%s)", warning, user.pk, unit.pk, actor)
    return assignment, True


def role_duties_warning(*, user: User, unit: Unit | None) -> str | None:
    """The warning to show when the user is both staff and leader in charge of the unit.

    Allowed (a small township may have no one else), but then the person submits
    recommitments they could otherwise approve; recommitment_decide refuses their own, so
    another leader in charge or a principal leader must decide them.
    """
    if unit is None:
        return None
    roles = set(RoleAssignment.objects.filter(user=user, unit=unit).values_list("role", flat=True))
    if not {Role.STAFF, Role.LEADER} <= roles:
        return None
    return _(
        "%(user)s 同时是“%(unit)s”的经办人和分管领导：其本人提交的重新承诺不能由本人审批，"
        "须由该单位的其他分管领导或主要领导审批。"
    ) % {"user": user.display_name, "unit": unit.name}


@transaction.atomic
def role_remove(*, assignment: RoleAssignment, actor: User | None) -> bool:
    """Take a role away; returns False when it was already gone.

    The last 督查办 role takes the admin access it gave with it, unless something else
    still gives the account a use for the admin: superuser, another group, or permissions
    of its own.
    """
    assignment = (
        RoleAssignment.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=assignment.pk)
        .first()
    )
    if assignment is None:
        return False
    user = assignment.user
    assignment._history_user = actor
    assignment.delete()
    if (
        assignment.role == Role.SUPERVISOR
        and not RoleAssignment.objects.filter(user=user, role=Role.SUPERVISOR).exists()
    ):
        _admin_access_withdraw(user=user, actor=actor)
    return True


SUPERVISION_OFFICE_GROUP = "督查办"
# What the office keeps by hand in the admin; every other model of the apps it may view.
OFFICE_KEEPS = {
    ("supervision", "calendarday"): ("add", "change", "delete"),
    ("scoring", "ruleversion"): ("add", "change", "delete"),
    ("projects", "nodetemplate"): ("add", "change", "delete"),
    ("projects", "nodetemplatestep"): ("add", "change", "delete"),
    ("projects", "project"): ("change",),  # for the "create nodes from a template" action
}
OFFICE_APPS = ("organization", "projects", "supervision", "scoring")


def supervision_office_group() -> Group:
    """The admin group of the supervision office, with its permissions brought up to date."""
    group, _created = Group.objects.get_or_create(name=SUPERVISION_OFFICE_GROUP)
    wanted = Q(content_type__app_label__in=OFFICE_APPS, codename__startswith="view_")
    for (app, model), actions in OFFICE_KEEPS.items():
        wanted |= Q(
            content_type__app_label=app,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def _admin_access_grant(*, user: User, actor: User | None) -> None:
    """The supervision office keeps the calendar, rules and templates in the admin."""
    # Read under a lock: the caller's copy may predate a withdrawal in the same request.
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_staff:
        locked.is_staff = True
        locked._history_user = actor
        locked.save(update_fields=["is_staff"])
    user.is_staff = True
    user.groups.add(supervision_office_group())


def _admin_access_withdraw(*, user: User, actor: User | None) -> None:
    """Leave the office's admin group; keep is_staff only while the admin still serves them."""
    user.groups.remove(*Group.objects.filter(name=SUPERVISION_OFFICE_GROUP))
    keeps_admin = user.is_superuser or user.groups.exists() or user.user_permissions.exists()
    if user.is_staff and not keeps_admin:
        user.is_staff = False
        user._history_user = actor
        user.save(update_fields=["is_staff"])


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> bool:
    """Revoke an API token from now on; returns False when it was already revoked."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.full_clean()
    token.save(update_fields=["revoked_at"])
    return True
