"""What notifications, points-entry reasons and node events say: the project and node, why a
card came, what to do next and by when, and points without trailing zeros."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from projects.models import NodeEvent
from scoring.models import PointsEntry, RuleVersion
from supervision.models import Card, Notification
from supervision.services import (
    node_complete,
    recommitment_decide,
    recommitment_submit,
    sweep_run,
)
from tests.factories import NodeFactory, ProjectFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
PROJECT = "FXDX-002 瑞丰新材料低效用地收储收回项目"
NODE = "FXDX-002 瑞丰新材料低效用地收储收回项目 节点“签订收储协议”"


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture
def unit():
    return UnitFactory(name="县自然资源局")


@pytest.fixture
def people(unit):
    return {
        "staff": make_user("staff", unit, username="staff"),
        "leader": make_user("leader", unit, username="leader"),
        "office": make_user("supervisor", username="office"),
    }


@pytest.fixture
def node(unit):
    """Due Thursday 2026-11-26: the yellow card comes on Friday 11-27."""
    project = ProjectFactory(code="FXDX-002", name="瑞丰新材料低效用地收储收回项目")
    return NodeFactory(
        project=project, seq=3, name="签订收储协议", unit=unit, due_date=dt.date(2026, 11, 26)
    )


def texts(kind: str, recipient) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(kind=kind, recipient=recipient)
        .order_by("pk")
        .values_list("title", "body")
    )


def card_texts(kind: str) -> tuple[str, str]:
    """The points-entry reason and the node-event message of the node's card of `kind`."""
    card = Card.objects.get(kind=kind)
    event = NodeEvent.objects.get(kind="card_issued", data__card=card.pk)
    return card.deduction.reason, event.message


def test_a_yellow_card_says_why_and_what_to_do_by_when(node, people):
    """A yellow-card notice names the project and node, the date it missed, the points without
    trailing zeros, and asks for the reason and a new date by the end of the grace window
    (3 working days from Friday 11-27: Wednesday 12-02)."""
    # when
    sweep_run(as_of=at("2026-11-27 09:00"))
    # then
    expected = (
        f"{NODE}被亮黄牌",
        "责任单位：县自然资源局。超过计划完成时间 11月26日，扣1分。"
        "请在12月2日（周三）前说明超期原因并重新承诺完成时间。",
    )
    for person in people.values():
        assert texts("card_issued", person) == [expected]
    assert card_texts("yellow") == (
        f"{NODE}超过计划完成时间 11月26日，黄牌扣1分",
        "黄牌：超过计划完成时间 11月26日，扣1分",
    )


def test_the_window_and_points_come_from_the_rule_in_force(node, people):
    """Another rule (5 working days, 0.5 and 1.5 points) changes the texts with it."""
    # given
    RuleVersion.objects.create(
        effective_from=dt.date(2026, 11, 1),
        yellow_points=Decimal("0.50"),
        red_points=Decimal("1.50"),
        grace_workdays=5,
        reminder_days=[3, 1],
    )
    # when
    sweep_run(as_of=at("2026-11-27 09:00"))
    sweep_run(as_of=at("2026-12-05 00:05"))
    # then
    assert texts("card_issued", people["staff"]) == [
        (
            f"{NODE}被亮黄牌",
            "责任单位：县自然资源局。超过计划完成时间 11月26日，扣0.5分。"
            "请在12月4日（周五）前说明超期原因并重新承诺完成时间。",
        ),
        (
            f"{NODE}被亮红牌",
            "责任单位：县自然资源局。未在5个工作日内提交重新承诺，扣1.5分。已列入重点督办事项。",
        ),
    ]
    assert card_texts("red") == (
        f"{NODE}未在5个工作日内提交重新承诺，红牌扣1.5分",
        "红牌：未在5个工作日内提交重新承诺，扣1.5分",
    )


def test_a_grace_window_red_card_says_no_recommitment_came_in_time(node, people):
    """A red card for an empty grace window says "未在3个工作日内提交重新承诺", not "超过期限"."""
    # given
    sweep_run(as_of=at("2026-11-27 09:00"))
    # when
    sweep_run(as_of=at("2026-12-03 00:05"))
    # then
    assert texts("card_issued", people["leader"])[-1] == (
        f"{NODE}被亮红牌",
        "责任单位：县自然资源局。未在3个工作日内提交重新承诺，扣2分。已列入重点督办事项。",
    )
    assert card_texts("red") == (
        f"{NODE}未在3个工作日内提交重新承诺，红牌扣2分",
        "红牌：未在3个工作日内提交重新承诺，扣2分",
    )


def test_a_committed_date_red_card_says_the_approved_date_passed(node, people):
    """A red card for a missed approved date says "超过承诺完成时间" and that date."""
    # given
    sweep_run(as_of=at("2026-11-27 09:00"))
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        rec = recommitment_submit(
            node=node, actor=people["staff"], reason="征迁未完成", new_due_date=dt.date(2026, 12, 5)
        )
        recommitment_decide(recommitment=rec, actor=people["leader"], approve=True)
    # when
    sweep_run(as_of=at("2026-12-06 00:05"))
    # then
    assert texts("card_issued", people["office"])[-1] == (
        f"{NODE}被亮红牌",
        "责任单位：县自然资源局。超过承诺完成时间 12月5日，扣2分。已列入重点督办事项。",
    )
    assert card_texts("red") == (
        f"{NODE}超过承诺完成时间 12月5日，红牌扣2分",
        "红牌：超过承诺完成时间 12月5日，扣2分",
    )


def test_a_node_completed_late_gets_its_yellow_card_without_a_request(node, people):
    """A node done late still earns its card, but nobody is asked to recommit a finished node."""
    # given
    with time_machine.travel(at("2026-11-27 15:00"), tick=False):
        node_complete(node=node, actor=people["staff"])
    # when
    sweep_run(as_of=at("2026-11-28 09:00"))
    # then
    assert texts("card_issued", people["staff"]) == [
        (f"{NODE}被亮黄牌", "责任单位：县自然资源局。超过计划完成时间 11月26日，扣1分。")
    ]


def test_reminders_name_the_node_and_say_today_on_the_due_day(unit, people):
    """A reminder names the project and node with the Chinese date; on the due day itself it
    says 今天到期, never "还剩 0 天"."""
    # given
    project = ProjectFactory(code="FXDX-002", name="瑞丰新材料低效用地收储收回项目")
    later = NodeFactory(
        project=project, seq=4, name="土地挂牌", unit=unit, due_date=dt.date(2026, 12, 10)
    )
    today = NodeFactory(
        project=project, seq=5, name="完成交地", unit=unit, due_date=dt.date(2026, 12, 7)
    )
    # when
    sweep_run(as_of=at("2026-12-07 08:00"))
    # then
    assert set(texts("reminder", people["staff"])) == {
        (
            f"{PROJECT} 节点“土地挂牌”将于12月10日（周四）到期",
            "责任单位：县自然资源局。还剩 3 天，请按时办结。",
        ),
        (
            f"{PROJECT} 节点“完成交地”今天到期",
            "责任单位：县自然资源局。今天到期，请按时办结。",
        ),
    }
    assert {n.node_id for n in Notification.objects.filter(kind="reminder")} == {
        later.pk,
        today.pk,
    }


def test_recommitment_notices_name_the_node_and_the_dates(node, people):
    """The approvers' notice names the project, node, unit and requested date; the decision
    tells the unit the committed date."""
    # given
    sweep_run(as_of=at("2026-11-27 09:00"))
    # when
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        rec = recommitment_submit(
            node=node, actor=people["staff"], reason="征迁未完成", new_due_date=dt.date(2026, 12, 5)
        )
        recommitment_decide(
            recommitment=rec, actor=people["leader"], approve=True, comment="同意，抓紧推进"
        )
    # then
    assert texts("recommitment_waiting", people["leader"]) == [
        (
            f"{NODE}：县自然资源局 提交了重新承诺，待您审批",
            "申请于12月5日（周六）前完成。超期原因：征迁未完成",
        )
    ]
    assert texts("recommitment_decided", people["staff"]) == [
        (f"{NODE}：重新承诺已批准", "承诺完成时间：12月5日（周六）。审批意见：同意，抓紧推进")
    ]


def test_a_rejection_says_what_to_do_and_by_when(node, people):
    """A rejection reopens the grace window: the unit is told the new deadline (Tuesday 12-01
    plus 3 working days: Friday 12-04) and the leader's comment."""
    # given
    sweep_run(as_of=at("2026-11-27 09:00"))
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        rec = recommitment_submit(
            node=node,
            actor=people["staff"],
            reason="征迁未完成",
            new_due_date=dt.date(2026, 12, 20),
        )
    # when
    with time_machine.travel(at("2026-12-01 15:00"), tick=False):
        recommitment_decide(
            recommitment=rec, actor=people["leader"], approve=False, comment="时间太晚"
        )
    # then
    assert texts("recommitment_decided", people["staff"]) == [
        (
            f"{NODE}：重新承诺已驳回",
            "请在12月4日（周五）前重新说明超期原因并重新承诺完成时间。驳回意见：时间太晚",
        )
    ]


def test_points_in_stored_texts_have_no_trailing_zeros(node, people):
    """Whole points print as 1 and 2, never 1.00 or 2.00, in every stored text."""
    # when
    sweep_run(as_of=at("2026-11-27 09:00"))
    sweep_run(as_of=at("2026-12-03 00:05"))
    # then
    stored = [
        *PointsEntry.objects.values_list("reason", flat=True),
        *NodeEvent.objects.values_list("message", flat=True),
        *Notification.objects.values_list("title", flat=True),
        *Notification.objects.values_list("body", flat=True),
    ]
    assert [t for t in stored if ".00" in t or ".0分" in t] == []
    assert {t for t in stored if "扣1分" in t or "扣2分" in t} != set()
