"""Retroactive penalties: the office moves a planned date into the past (or before the
node's completion) only with an explicit confirmation that names the card it causes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from projects.models import Node, NodeEvent
from supervision.models import Card
from supervision.services import node_change_due_date, sweep_run
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office():
    return make_user("supervisor", username="dcb")


def _node(**kwargs) -> Node:
    return NodeFactory(
        unit=UnitFactory(name="县自然资源局"),
        due_date=dt.date(2026, 12, 10),
        name="签订收储协议",
        **kwargs,
    )


def _state(node: Node) -> tuple:
    node.refresh_from_db()
    return (
        node.due_date,
        node.history.count(),
        NodeEvent.objects.filter(node=node).count(),
        Card.objects.count(),
    )


def _card_text(node: Node, date: str, why: str) -> str:
    return f"节点“{node}”的新计划完成日期{date}{why}，下一次巡查将补记一张黄牌，扣1分。"


def test_an_open_node_moved_before_today_is_refused_naming_the_card(office):
    """Moving an open node's date into the past issues a yellow card at the next sweep."""
    # given
    node = _node()
    before = _state(node)
    # when
    with pytest.raises(ValidationError) as refused:
        node_change_due_date(
            node=node, actor=office, due_date=dt.date(2026, 11, 20), reason="补录计划"
        )
    # then
    assert refused.value.message_dict == {
        "due_date": [
            _card_text(node, "2026-11-20", "早于今天") + "如确需补记，请勾选确认后再提交。"
        ]
    }
    assert _state(node) == before


def test_an_open_node_moved_before_today_with_confirmation_gets_the_named_card(office):
    # given
    node = _node()
    # when
    node_change_due_date(
        node=node,
        actor=office,
        due_date=dt.date(2026, 11, 20),
        reason="补录计划",
        confirm_backdate=True,
    )
    run = sweep_run(as_of=NOW)
    # then
    node.refresh_from_db()
    assert node.due_date == dt.date(2026, 11, 20)
    assert run.counts.yellow == 1
    card = Card.objects.get(node=node)
    assert (card.kind, card.deadline, str(card.points)) == ("yellow", dt.date(2026, 11, 20), "1.00")


@pytest.mark.parametrize("day", [dt.date(2026, 11, 23), dt.date(2026, 11, 24)])
def test_an_open_node_moved_to_today_or_later_needs_no_confirmation(office, day):
    # given
    node = _node()
    # when
    node_change_due_date(node=node, actor=office, due_date=day, reason="调整计划")
    run = sweep_run(as_of=NOW)
    # then
    node.refresh_from_db()
    assert node.due_date == day
    assert run.counts.yellow == 0


def test_a_completed_node_moved_before_its_completion_is_refused_naming_the_card(office):
    """The admin action used to give a node completed a month ago a backdated yellow card."""
    # given
    node = _node(completed_at=dt.datetime(2026, 10, 23, 15, 0, tzinfo=SH))
    before = _state(node)
    # when
    with pytest.raises(ValidationError) as refused:
        node_change_due_date(
            node=node, actor=office, due_date=dt.date(2026, 10, 22), reason="补录计划"
        )
    # then
    assert refused.value.message_dict["due_date"] == [
        _card_text(node, "2026-10-22", "早于该节点的办结日期2026-10-23")
        + "如确需补记，请勾选确认后再提交。"
    ]
    assert _state(node) == before
    assert sweep_run(as_of=NOW).counts.yellow == 0


def test_a_completed_node_moved_into_the_past_but_not_before_its_completion_needs_none(office):
    # given
    node = _node(completed_at=dt.datetime(2026, 10, 23, 15, 0, tzinfo=SH))
    # when
    node_change_due_date(
        node=node, actor=office, due_date=dt.date(2026, 10, 23), reason="按实际办结调整"
    )
    run = sweep_run(as_of=NOW)
    # then
    node.refresh_from_db()
    assert node.due_date == dt.date(2026, 10, 23)
    assert run.counts.yellow == 0 and Card.objects.count() == 0


def test_a_node_holding_a_yellow_card_needs_no_confirmation(office, frozen):
    # given: the node was breached on 2026-11-21 and holds its yellow card
    node = _node()
    node.due_date = dt.date(2026, 11, 20)
    node.save()
    assert sweep_run(as_of=NOW).counts.yellow == 1
    # when
    node_change_due_date(node=node, actor=office, due_date=dt.date(2026, 11, 18), reason="更正")
    # then
    node.refresh_from_db()
    assert node.due_date == dt.date(2026, 11, 18)
    assert sweep_run(as_of=NOW).counts.yellow == 0
    assert Card.objects.filter(node=node).count() == 1


@pytest.fixture
def office_signed_in(client):
    """The supervision office, onboarded as usual (a staff account for the admin)."""
    call_command(
        "add_user", "dcb2", "--password", "pw-123456789", "--role", "supervisor", stdout=None
    )
    assert client.login(username="dcb2", password="pw-123456789")


def _admin_post(client, node, **extra):
    data = {
        "action": "change_due_date",
        "_selected_action": [node.pk],
        "apply": "1",
        "due_date": "2026-10-01",
        "reason": "县政府常务会议调整计划",
    } | extra
    return client.post(reverse("admin:projects_node_changelist"), data, follow=True)


def test_the_admin_action_names_the_card_on_its_checkbox(client, office_signed_in):
    # given
    node = _node()
    # when
    page = client.post(
        reverse("admin:projects_node_changelist"),
        {"action": "change_due_date", "_selected_action": [node.pk]},
    )
    # then
    assert page.status_code == 200
    assert (
        "确认补记黄牌：新日期早于今天（未办结节点）或早于办结日期（已办结节点）时，"
        "该节点将被补记一张黄牌，扣1分"
    ) in page.content.decode()
    assert 'name="confirm_backdate"' in page.content.decode()


def test_the_admin_action_refuses_a_backdate_without_the_checkbox(client, office_signed_in):
    # given
    node = _node(completed_at=dt.datetime(2026, 10, 23, 15, 0, tzinfo=SH))
    before = _state(node)
    # when
    response = _admin_post(client, node)
    # then
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        _card_text(node, "2026-10-01", "早于该节点的办结日期2026-10-23")
        + "如确需补记，请勾选确认后再提交。"
    ]
    assert _state(node) == before


def test_the_admin_action_backdates_with_the_checkbox(client, office_signed_in):
    # given
    node = _node(completed_at=dt.datetime(2026, 10, 23, 15, 0, tzinfo=SH))
    # when
    response = _admin_post(client, node, confirm_backdate="on")
    # then
    assert [str(m) for m in response.context["messages"]] == ["已调整 1 个节点的时间。"]
    node.refresh_from_db()
    assert node.due_date == dt.date(2026, 10, 1)
    assert sweep_run(as_of=NOW).counts.yellow == 1
