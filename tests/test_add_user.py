"""add_user: scripted onboarding that can run again and again, and refuses bad input whole."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from organization.models import RoleAssignment, User
from organization.services import role_assign, user_ensure
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def units():
    return {
        "zrj": UnitFactory(name="县自然资源和规划局"),
        "czj": UnitFactory(name="县财政局"),
        "shangpai": UnitFactory(name="上派镇", kind="township"),
    }


def add_user(*args: str) -> str:
    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue()


def state() -> dict:
    """Everything add_user may write, to compare before and after."""
    return {
        "users": sorted(User.objects.values_list("username", "password", "full_name", "email")),
        "roles": sorted(RoleAssignment.objects.values_list("user__username", "role", "unit__name")),
        "user_history": User.history.count(),
        "role_history": RoleAssignment.history.count(),
    }


def roles_of(username: str) -> set[tuple[str, str | None]]:
    return set(
        RoleAssignment.objects.filter(user__username=username).values_list("role", "unit__name")
    )


def test_staff_for_two_units(units):
    # when
    out = add_user(
        "li_hua",
        "--password",
        "s3cret-pass",
        "--role",
        "staff",
        "--unit",
        "县自然资源和规划局",
        "--unit",
        "上派镇",
        "--name",
        "李华",
        "--email",
        "li@fx.cn",
    )
    # then
    user = User.objects.get(username="li_hua")
    assert (user.full_name, user.email, user.is_staff, user.is_superuser) == (
        "李华",
        "li@fx.cn",
        False,
        False,
    )
    assert user.check_password("s3cret-pass")
    assert roles_of("li_hua") == {("staff", "县自然资源和规划局"), ("staff", "上派镇")}
    assert out == (
        "已创建用户 li_hua。\n"
        "已授予角色 经办人：县自然资源和规划局。\n"
        "已授予角色 经办人：上派镇。\n"
    )


def test_units_may_follow_one_flag(units):
    # when
    add_user(
        "wang", "--password", "s3cret-pass", "--role", "leader", "--unit", "县财政局", "上派镇"
    )
    # then
    assert roles_of("wang") == {("leader", "县财政局"), ("leader", "上派镇")}


@pytest.mark.parametrize("role, label", [("principal", "主要领导"), ("supervisor", "督查办")])
def test_county_wide_roles(role, label):
    # when
    out = add_user("zhou", "--password", "s3cret-pass", "--role", role)
    # then
    assert roles_of("zhou") == {(role, None)}
    assert out == f"已创建用户 zhou。\n已授予角色 {label}。\n"


def test_second_run_with_the_same_arguments_changes_nothing(units):
    # given
    args = (
        "li_hua",
        "--password",
        "s3cret-pass",
        "--role",
        "staff",
        "--unit",
        "县财政局",
        "--name",
        "李华",
    )
    add_user(*args)
    before = state()
    # when
    out = add_user(*args)
    # then
    assert state() == before
    assert out == "用户 li_hua 已存在且已具备该角色，无变化。\n"


def test_a_new_password_is_set_and_nothing_else_changes(units):
    # given
    add_user("li_hua", "--password", "s3cret-pass", "--role", "staff", "--unit", "县财政局")
    before = state()
    # when
    out = add_user("li_hua", "--password", "n3w-password", "--role", "staff", "--unit", "县财政局")
    # then
    user = User.objects.get(username="li_hua")
    assert user.check_password("n3w-password")
    assert state()["roles"] == before["roles"]
    assert state()["user_history"] == before["user_history"] + 1
    assert out == "已更新用户 li_hua（密码、姓名或邮箱）。\n"


def test_a_missing_role_is_added_to_an_existing_user(units):
    # given
    add_user("li_hua", "--password", "s3cret-pass", "--role", "staff", "--unit", "县财政局")
    # when
    out = add_user("li_hua", "--password", "s3cret-pass", "--role", "leader", "--unit", "上派镇")
    # then
    assert roles_of("li_hua") == {("staff", "县财政局"), ("leader", "上派镇")}
    assert out == "已授予角色 分管领导：上派镇。\n"


def test_unknown_unit_is_refused_and_nothing_is_written(units):
    # given
    UserFactory(username="li_hua")
    before = state()
    # when
    with pytest.raises(CommandError) as excinfo:
        add_user(
            "li_hua",
            "--password",
            "n3w-password",
            "--role",
            "staff",
            "--unit",
            "县财政局",
            "--unit",
            "县国土局",
        )
    # then
    assert str(excinfo.value) == "未找到责任单位：县国土局。请核对单位全称。"
    assert excinfo.value.returncode == 1
    assert state() == before


def test_staff_without_a_unit_is_refused(units):
    # given
    before = state()
    # when
    with pytest.raises(CommandError) as excinfo:
        add_user("li_hua", "--password", "s3cret-pass", "--role", "staff")
    # then
    assert str(excinfo.value) == "角色 staff（经办人）须用 --unit 指定至少一个单位。"
    assert state() == before


def test_leader_without_a_unit_is_refused(units):
    # given
    before = state()
    # when
    with pytest.raises(CommandError):
        add_user("wang", "--password", "s3cret-pass", "--role", "leader")
    # then
    assert state() == before


@pytest.mark.parametrize("role", ["principal", "supervisor"])
def test_county_wide_role_with_a_unit_is_refused(units, role):
    # given
    before = state()
    # when
    with pytest.raises(CommandError) as excinfo:
        add_user("zhou", "--password", "s3cret-pass", "--role", role, "--unit", "县财政局")
    # then
    assert "不能指定 --unit" in str(excinfo.value)
    assert state() == before


def test_unknown_role_is_refused():
    # when
    with pytest.raises(CommandError):
        add_user("zhou", "--password", "s3cret-pass", "--role", "mayor")
    # then
    assert not User.objects.filter(username="zhou").exists()


def test_too_short_a_password_is_refused_and_nothing_is_written(units):
    # given
    before = state()
    # when
    with pytest.raises(CommandError) as excinfo:
        add_user("li_hua", "--password", "short", "--role", "staff", "--unit", "县财政局")
    # then
    assert "8" in str(excinfo.value)  # the minimum length (Django's message, not yet translated)
    assert state() == before


def test_user_ensure_reports_whether_it_wrote():
    # given
    actor = UserFactory(username="admin")
    # when
    user, created = user_ensure(
        username="li_hua", password="s3cret-pass", full_name="李华", actor=actor
    )
    same, changed_again = user_ensure(username="li_hua", password="s3cret-pass", actor=actor)
    renamed, renamed_changed = user_ensure(
        username="li_hua", password="s3cret-pass", full_name="李小华", actor=actor
    )
    # then
    assert (created, changed_again, renamed_changed) == (True, False, True)
    assert user.pk == same.pk == renamed.pk
    assert [h.history_user for h in User.history.filter(id=user.pk)] == [actor, actor]
    assert User.objects.get(pk=user.pk).full_name == "李小华"


def test_role_assign_checks_the_unit_against_the_role(units):
    # given
    user = UserFactory()
    # when / then
    with pytest.raises(ValidationError):
        role_assign(user=user, role="staff", unit=None, actor=None)
    with pytest.raises(ValidationError):
        role_assign(user=user, role="principal", unit=units["czj"], actor=None)
    with pytest.raises(ValidationError):
        role_assign(user=user, role="mayor", unit=None, actor=None)
    assert not RoleAssignment.objects.filter(user=user).exists()
    first = role_assign(user=user, role="staff", unit=units["czj"], actor=None)
    again = role_assign(user=user, role="staff", unit=units["czj"], actor=None)
    assert (first[1], again[1], first[0].pk) == (True, False, again[0].pk)
