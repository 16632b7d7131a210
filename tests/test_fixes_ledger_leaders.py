"""A ledger's unknown 包保领导 becomes a person without a login; add_user later gives them one."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ledger.importing import ledger_import
from organization.models import ApiToken, User
from projects.models import Project
from tests.factories import LocalityFactory, UserFactory, make_user
from tests.test_ledger_import import ledger_row, run, run_failing, write_csv

pytestmark = pytest.mark.django_db


def two_projects_led_by(name: str) -> list[dict]:
    return [
        ledger_row(包保领导=name),
        ledger_row(项目编号="FX-002", 项目名称="某纺织厂嫁接盘活", 包保领导=name),
    ]


def add_user(*args: str) -> str:
    out = io.StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue()


def users() -> list[tuple]:
    return sorted(
        User.objects.exclude(username="system").values_list(
            "pk", "username", "full_name", "password", "is_active"
        )
    )


def test_an_unknown_leader_name_is_recorded_as_a_person_without_a_login(tmp_path):
    """An unknown 包保领导 name no longer refuses the file: the person is recorded once, active
    and named as the leader of their projects, with no password anyone can sign in with,
    and the summary lists them."""
    # given
    path = write_csv(tmp_path / "台账.csv", two_projects_led_by("王五"))
    # when
    out, err = run(path)
    # then
    assert err == ""
    assert out.splitlines()[-1] == (
        "新建包保领导1人（暂无登录账号，可用 add_user 以同一姓名开通）：王五"
    )
    person = User.objects.get(full_name="王五")
    assert (person.username, person.display_name, person.is_active) == ("台账-王五", "王五", True)
    assert (person.is_staff, person.is_superuser, person.has_usable_password()) == (
        False,
        False,
        False,
    )
    assert person.role_assignments.count() == 0
    assert [p.leader for p in Project.objects.order_by("code")] == [person, person]
    recorded = person.history.get()
    assert (recorded.history_user.username, recorded.history_change_reason) == (
        "system",
        "台账导入",
    )
    for password in ("", "!", person.password):
        assert authenticate(username="台账-王五", password=password) is None


def test_a_person_without_a_login_cannot_sign_in_through_the_login_page(tmp_path, client):
    """The login page refuses a person the import recorded, whatever password is tried."""
    # given
    run(write_csv(tmp_path / "台账.csv", two_projects_led_by("王五")))
    stored = User.objects.get(full_name="王五").password
    # when
    responses = [
        client.post("/accounts/login/", {"username": "台账-王五", "password": password})
        for password in ("", stored, "demo12345")
    ]
    # then
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "_auth_user_id" not in client.session


def test_a_dry_run_lists_the_leader_it_would_record_and_records_nobody(tmp_path):
    """A dry run reports the people it would record; the database keeps none of them."""
    # given
    path = write_csv(tmp_path / "台账.csv", two_projects_led_by("王五"))
    before = users()
    # when
    result = ledger_import(
        path_or_file=path, actor=User.objects.get(username="system"), dry_run=True
    )
    # then
    assert result.errors == []
    assert result.leaders_created == ["王五"]
    assert result.summary_lines()[-1] == (
        "新建包保领导1人（暂无登录账号，可用 add_user 以同一姓名开通）：王五"
    )
    assert users() == before


def test_importing_again_finds_the_person_it_recorded(tmp_path):
    """A second import of the same ledger reuses the person; nobody is recorded twice."""
    # given
    path = write_csv(tmp_path / "台账.csv", two_projects_led_by("王五"))
    run(path)
    before = users()
    # when
    out, _err = run(path)
    # then
    assert users() == before
    assert "新建包保领导" not in out
    assert "项目：新建0个，更新0个，无变化2个" in out.splitlines()


def test_the_upload_preview_lists_the_leader_to_be_recorded(tmp_path, client):
    """The office's upload page shows, before 确认导入, who will be recorded without a login;
    nobody is recorded until the import is confirmed."""
    # given
    client.force_login(make_user("supervisor", username="dcb"))
    path = write_csv(tmp_path / "台账.csv", two_projects_led_by("王五"))
    upload = SimpleUploadedFile("台账.csv", path.read_bytes(), content_type="text/csv")
    before = users()
    # when
    client.post(reverse("ledger-upload"), {"file": upload})
    preview = client.get(reverse("ledger-upload"))
    # then
    sections = {s["label"]: s["entries"] for s in preview.context["preview"]["sections"]}
    assert sections["新建包保领导（暂无登录账号，可用 add_user 以同一姓名开通）"] == ["王五"]
    assert users() == before
    # when
    client.post(reverse("ledger-confirm"))
    # then
    assert User.objects.get(full_name="王五").has_usable_password() is False


def test_a_name_that_is_not_a_valid_username_still_makes_one(tmp_path):
    """A name with a middle dot is kept whole as the name; the username keeps what it may hold."""
    # given
    path = write_csv(tmp_path / "台账.csv", [ledger_row(包保领导="阿不都·热合曼")])
    # when
    run(path)
    # then
    person = Project.objects.get().leader
    assert (person.username, person.full_name) == ("台账-阿不都热合曼", "阿不都·热合曼")


def test_an_inactive_account_is_not_reused(tmp_path):
    """A disabled account of that name stays disabled; the person recorded is new, numbered
    when the username is taken."""
    # given
    disabled = UserFactory(username="台账-王五", full_name="王五", is_active=False)
    # when
    run(write_csv(tmp_path / "台账.csv", [ledger_row(包保领导="王五")]))
    # then
    leader = Project.objects.get().leader
    assert leader != disabled
    assert (leader.username, leader.full_name) == ("台账-王五-2", "王五")


def test_add_user_with_that_name_gives_the_same_person_a_login(tmp_path):
    """add_user with a new username and the full name of exactly one person without a login
    gives that person the login, so they keep leading their projects; no duplicate."""
    # given
    run(write_csv(tmp_path / "台账.csv", two_projects_led_by("王五")))
    person = User.objects.get(full_name="王五")
    count = User.objects.count()
    # when
    out = add_user(
        "wangwu",
        "--password",
        "s3cret-pass",
        "--role",
        "leader",
        "--unit",
        "三河镇",
        "--full-name",
        "王五",
    )
    # then
    assert out == (
        "已为原无登录账号的 王五 开通登录，用户名 wangwu（其包保项目不变）。\n"
        "已授予角色 分管领导：三河镇。\n"
    )
    assert User.objects.count() == count
    person.refresh_from_db()
    assert (person.username, person.full_name, person.is_active) == ("wangwu", "王五", True)
    assert authenticate(username="wangwu", password="s3cret-pass") == person
    assert {p.leader for p in Project.objects.all()} == {person}
    assert list(person.role_assignments.values_list("role", "unit__name")) == [("leader", "三河镇")]


def test_add_user_never_takes_over_an_account_that_can_sign_in():
    """An account with a usable password, a live API token, a superuser or a disabled account
    is never given to someone else by name: add_user makes a new account instead."""
    # given
    LocalityFactory(name="三河镇")
    with_password = UserFactory(username="wang5", full_name="王五")
    with_token = UserFactory(username="wang6", full_name="王五")
    with_token.set_unusable_password()
    with_token.save()
    ApiToken.objects.create(user=with_token, digest="d" * 64, prefix="abcdefgh")
    root = UserFactory(username="wang7", full_name="王五", is_superuser=True, is_staff=True)
    root.set_unusable_password()
    root.save()
    disabled = UserFactory(username="wang8", full_name="王五", is_active=False)
    disabled.set_unusable_password()
    disabled.save()
    before = users()
    # when
    out = add_user(
        "wangwu", "--password", "s3cret-pass", "--role", "principal", "--full-name", "王五"
    )
    # then
    assert out == "已创建用户 wangwu。\n已授予角色 主要领导。\n"
    new = User.objects.get(username="wangwu")
    assert [u for u in users() if u[0] != new.pk] == before
    assert {with_password.pk, with_token.pk, root.pk, disabled.pk}.isdisjoint({new.pk})


def test_add_user_refuses_to_guess_between_two_people_without_a_login():
    """Two people without a login share the name: add_user stops, nothing is written."""
    # given
    for username in ("王五", "王五-2"):
        person = UserFactory(username=username, full_name="王五")
        person.set_unusable_password()
        person.save()
    before = users()
    # when
    with pytest.raises(CommandError) as excinfo:
        add_user("wangwu", "--password", "s3cret-pass", "--role", "principal", "--name", "王五")
    # then
    assert str(excinfo.value) == (
        "系统中有2位未开通登录的人员姓名为“王五”，无法确定是哪一位，请在管理后台核对后再开通。"
    )
    assert users() == before


def test_an_existing_username_is_updated_as_before_not_matched_by_name(tmp_path):
    """An existing username keeps the old behaviour: that account is updated; the person
    without a login of the same name stays as they were."""
    # given
    run(write_csv(tmp_path / "台账.csv", [ledger_row(包保领导="王五")]))
    person = User.objects.get(full_name="王五")
    other = UserFactory(username="wangwu", full_name="王小五")
    # when
    add_user("wangwu", "--password", "s3cret-pass", "--role", "principal", "--name", "王五")
    # then
    person.refresh_from_db()
    other.refresh_from_db()
    assert (person.username, person.has_usable_password()) == ("台账-王五", False)
    assert (other.username, other.full_name) == ("wangwu", "王五")


def test_a_name_two_accounts_share_stays_an_error(tmp_path):
    """A person without a login and an account of the same name: the import asks for the
    username, as for any two users of one name, and writes nothing."""
    # given
    run(write_csv(tmp_path / "v1.csv", [ledger_row(包保领导="王五")]))
    UserFactory(username="wang5", full_name="王五")
    before = users()
    # when
    errors = run_failing(
        write_csv(tmp_path / "v2.csv", [ledger_row(项目编号="FX-009", 包保领导="王五")])
    )
    # then
    assert errors == ["第2行 包保领导：系统中有2个用户姓名为“王五”，请改填用户名"]
    assert users() == before
