"""Separation of duties: nobody decides a recommitment they submitted; both roles on one unit warn."""

import datetime as dt
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from organization.models import RoleAssignment
from organization.services import role_assign, role_duties_warning
from supervision.models import Recommitment
from tests.factories import UnitFactory, UserFactory
from tests.test_api_support import api_post, card_make, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

REFUSED = "不能审批自己提交的重新承诺，请由其他分管领导或主要领导审批。"


@pytest.fixture
def both(world):
    """The unit's staff member, made leader in charge of the same unit as well."""
    user = world.users["staff"]
    role_assign(user=user, role="leader", unit=world.unit, actor=None)
    return user


@pytest.fixture
def own_request(client, world, both):
    """A pending recommitment that `both` submitted through the API."""
    card_make(world.node, "yellow")
    response = api_post(
        client,
        f"nodes/{world.node.pk}/recommitments/",
        world.token("staff"),
        {"reason": "征迁补偿协议尚未签订", "new_due_date": "2026-12-10"},
    )
    assert response.status_code == 201
    return Recommitment.objects.get(pk=response.json()["id"])


# ---------------------------------------------------------------- API


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_the_api_refuses_a_decision_on_ones_own_recommitment(client, world, own_request, verb):
    """Domain rule 2: a leader in charge who submitted the request may not decide it (403)."""
    # given
    before = snapshot()
    # when
    response = api_post(
        client, f"recommitments/{own_request.pk}/{verb}/", world.token("staff"), {"comment": "同意"}
    )
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": REFUSED}
    assert snapshot() == before
    own_request.refresh_from_db()
    assert (own_request.status, own_request.decided_by, own_request.decided_at) == (
        "pending",
        None,
        None,
    )


def test_the_api_lets_another_leader_in_charge_decide_it(client, world, own_request):
    # when
    response = api_post(
        client,
        f"recommitments/{own_request.pk}/approve/",
        world.token("leader"),
        {"comment": "同意"},
    )
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    own_request.refresh_from_db()
    assert (own_request.status, own_request.decided_by) == ("approved", world.users["leader"])
    world.node.refresh_from_db()
    assert world.node.committed_due_date == dt.date(2026, 12, 10)


# ---------------------------------------------------------------- pages


def test_the_inbox_shows_ones_own_request_without_buttons(client, world, both, own_request):
    # given
    client.force_login(both)
    # when
    response = client.get(reverse("approvals"))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="rec-{own_request.pk}"' in page
    assert "这是您提交的申请，须由其他领导审批。" in page
    assert reverse("approval-decide", args=[own_request.pk]) not in page


def test_the_inbox_shows_the_other_leader_the_buttons(client, world, own_request):
    # given
    client.force_login(world.users["leader"])
    # when
    page = client.get(reverse("approvals")).content.decode()
    # then
    assert reverse("approval-decide", args=[own_request.pk]) in page
    assert "这是您提交的申请" not in page


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_hand_made_post_on_ones_own_request_is_refused(
    client, world, both, own_request, decision
):
    # given
    client.force_login(both)
    before = snapshot()
    # when
    response = client.post(
        reverse("approval-decide", args=[own_request.pk]),
        {"decision": decision, "comment": "同意"},
    )
    # then
    assert response.status_code == 403
    assert REFUSED in response.content.decode()
    assert snapshot() == before


# ---------------------------------------------------------------- granting both roles


def test_granting_both_roles_on_one_unit_is_recorded_as_a_warning(caplog):
    # given
    unit = UnitFactory(name="桃花镇")
    user = UserFactory(username="zhang", full_name="张三")
    role_assign(user=user, role="staff", unit=unit, actor=None)
    # when
    with caplog.at_level(logging.WARNING, logger="organization.services"):
        _, created = role_assign(user=user, role="leader", unit=unit, actor=None)
    # then
    assert created is True
    warning = (
        "张三 同时是“桃花镇”的经办人和分管领导：其本人提交的重新承诺不能由本人审批，"
        "须由该单位的其他分管领导或主要领导审批。"
    )
    assert role_duties_warning(user=user, unit=unit) == warning
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [warning]
    assert sorted(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == [
        "leader",
        "staff",
    ]


def test_roles_on_different_units_do_not_warn(caplog):
    # given
    unit, other = UnitFactory(name="桃花镇"), UnitFactory(name="上派镇")
    user = UserFactory(username="li", full_name="李四")
    role_assign(user=user, role="staff", unit=unit, actor=None)
    # when
    with caplog.at_level(logging.WARNING, logger="organization.services"):
        role_assign(user=user, role="leader", unit=other, actor=None)
    # then
    assert role_duties_warning(user=user, unit=unit) is None
    assert role_duties_warning(user=user, unit=other) is None
    assert caplog.records == []


def test_add_user_prints_the_warning():
    # given
    UnitFactory(name="桃花镇")
    call_command(
        "add_user",
        "wang",
        "--password",
        "pw-123456",
        "--role",
        "staff",
        "--unit",
        "桃花镇",
        "--full-name",
        "王五",
        stdout=StringIO(),
    )
    out = StringIO()
    # when
    call_command(
        "add_user",
        "wang",
        "--password",
        "pw-123456",
        "--role",
        "leader",
        "--unit",
        "桃花镇",
        stdout=out,
    )
    # then
    assert out.getvalue().splitlines() == [
        "已授予角色 分管领导：桃花镇。",
        "注意：王五 同时是“桃花镇”的经办人和分管领导：其本人提交的重新承诺不能由本人审批，"
        "须由该单位的其他分管领导或主要领导审批。",
    ]


def test_the_admin_shows_the_warning_when_a_role_is_given(client):
    # given
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    unit = UnitFactory(name="桃花镇")
    user = UserFactory(username="zhao", full_name="赵六")
    role_assign(user=user, role="staff", unit=unit, actor=None)
    # when
    response = client.post(
        reverse("admin:organization_roleassignment_add"),
        {"user": user.pk, "role": "leader", "unit": unit.pk},
        follow=True,
    )
    # then
    assert response.status_code == 200
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert (
        "warning",
        "赵六 同时是“桃花镇”的经办人和分管领导：其本人提交的重新承诺不能由本人审批，"
        "须由该单位的其他分管领导或主要领导审批。",
    ) in shown
    assert RoleAssignment.objects.filter(user=user, unit=unit).count() == 2
