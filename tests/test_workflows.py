"""Recommitments, revocations, the supervision list and node reports, through the services."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from core.errors import Conflict
from projects.models import Node, ProgressReport
from projects.services import node_progress_report
from scoring.models import PointsEntry
from supervision.models import Card, InspectionRecord, Notification, Recommitment, SupervisionItem
from supervision.services import (
    card_revoke,
    node_complete,
    recommitment_decide,
    recommitment_submit,
    supervision_item_add_inspection,
    supervision_item_close,
    sweep_run,
)
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unit():
    return UnitFactory(name="县自然资源和规划局")


@pytest.fixture
def people(unit):
    return {
        "staff": make_user("staff", unit, username="staff"),
        "leader": make_user("leader", unit, username="leader"),
        "other_leader": make_user("leader", UnitFactory(name="县住建局"), username="other_leader"),
        "principal": make_user("principal", username="principal"),
        "supervisor": make_user("supervisor", username="supervisor"),
        "other_staff": make_user("staff", UnitFactory(name="县财政局"), username="other_staff"),
    }


@pytest.fixture
def yellow_node(unit, people):
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    return node


def snapshot():
    return (
        list(Recommitment.objects.values_list("id", "status", "decided_by_id", "comment")),
        list(Node.objects.values_list("id", "committed_due_date", "completed_at", "progress")),
        list(Card.objects.values_list("id", "revoked_at")),
        PointsEntry.objects.count(),
        Notification.objects.count(),
        SupervisionItem.objects.count(),
    )


def submit(node, actor, **kw):
    args = {"reason": "征迁补偿协议尚未签订", "new_due_date": dt.date(2026, 12, 20)} | kw
    return recommitment_submit(node=node, actor=actor, **args)


def test_submit_then_approve_sets_the_committed_date_and_tells_people(yellow_node, people):
    # when
    rec = submit(yellow_node, people["staff"])
    # then: the approvers are told
    assert rec.status == "pending"
    assert sorted(
        Notification.objects.filter(kind="recommitment_waiting").values_list(
            "recipient__username", flat=True
        )
    ) == ["leader", "principal"]
    # when
    recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="同意")
    # then
    rec.refresh_from_db()
    yellow_node.refresh_from_db()
    assert (rec.status, rec.decided_by, rec.comment, rec.decided_at) == (
        "approved",
        people["leader"],
        "同意",
        NOW,
    )
    assert yellow_node.committed_due_date == dt.date(2026, 12, 20)
    assert yellow_node.history.first().history_user == people["leader"]
    assert Notification.objects.get(kind="recommitment_decided").recipient == people["staff"]
    assert [h.status for h in rec.history.order_by("history_date")] == ["pending", "approved"]


def test_principal_may_decide_for_any_unit(yellow_node, people):
    rec = submit(yellow_node, people["staff"])
    recommitment_decide(
        recommitment=rec, actor=people["principal"], approve=False, comment="请细化措施"
    )
    rec.refresh_from_db()
    assert (rec.status, rec.decided_by) == ("rejected", people["principal"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "字" * 2001}, "reason"),
        ({"new_due_date": dt.date(2026, 11, 30)}, "new_due_date"),  # today is not after today
        ({"new_due_date": dt.date(2026, 11, 1)}, "new_due_date"),
    ],
)
def test_invalid_submission_changes_nothing(yellow_node, people, kwargs, field):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        submit(yellow_node, people["staff"], **kwargs)
    assert list(exc.value.message_dict) == [field]
    assert snapshot() == before


def test_a_reason_of_2000_characters_is_accepted(yellow_node, people):
    assert len(submit(yellow_node, people["staff"], reason="字" * 2000).reason) == 2000


@pytest.mark.parametrize("who", ["other_staff", "leader", "supervisor", "principal"])
def test_only_the_units_staff_may_submit(yellow_node, people, who):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        submit(yellow_node, people[who])
    assert snapshot() == before


def test_one_pending_at_a_time(yellow_node, people):
    submit(yellow_node, people["staff"])
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        submit(yellow_node, people["staff"], new_due_date=dt.date(2026, 12, 25))
    assert exc.value.code == "already_pending"
    assert snapshot() == before


def test_no_recommitment_without_a_yellow_card(unit, people):
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 26))
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        submit(node, people["staff"])
    assert exc.value.code == "node_not_yellow"
    assert snapshot() == before


def test_no_recommitment_once_the_grace_window_is_over(yellow_node, people, frozen):
    # the window from Friday 11-27 ended with Wednesday 12-02; the sweep has not run yet
    frozen.move_to(at("2026-12-03 08:00"))
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        submit(yellow_node, people["staff"])
    assert exc.value.code == "grace_expired"
    assert snapshot() == before


def test_a_decision_is_final(yellow_node, people):
    rec = submit(yellow_node, people["staff"])
    recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="")
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        recommitment_decide(
            recommitment=rec, actor=people["principal"], approve=False, comment="不同意"
        )
    assert exc.value.code == "already_decided"
    assert snapshot() == before


@pytest.mark.parametrize("who", ["staff", "other_leader", "supervisor", "other_staff"])
def test_only_leaders_in_charge_or_principal_decide(yellow_node, people, who):
    rec = submit(yellow_node, people["staff"])
    before = snapshot()
    with pytest.raises(PermissionDenied):
        recommitment_decide(recommitment=rec, actor=people[who], approve=True, comment="")
    assert snapshot() == before


def test_rejection_needs_a_comment(yellow_node, people):
    rec = submit(yellow_node, people["staff"])
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        recommitment_decide(recommitment=rec, actor=people["leader"], approve=False, comment=" ")
    assert list(exc.value.message_dict) == ["comment"]
    assert snapshot() == before


def unit_points(unit) -> Decimal:
    return PointsEntry.objects.filter(unit=unit).aggregate(s=Sum("points"))["s"] or Decimal("0")


def test_revocation_restores_the_score_and_the_card_is_not_issued_again(
    yellow_node, unit, people, frozen
):
    # given: yellow then red (no recommitment)
    sweep_run(as_of=at("2026-12-03 00:00"))
    assert unit_points(unit) == Decimal("-3.00")
    red = Card.objects.get(kind="red")
    # when
    card_revoke(card=red, actor=people["supervisor"], reason="节点时间录入有误")
    # then
    red.refresh_from_db()
    assert (red.revoked_by, red.revoke_reason) == (people["supervisor"], "节点时间录入有误")
    latest = red.history.first()
    assert (latest.history_user, latest.history_change_reason) == (people["supervisor"], "撤销亮牌")
    assert unit_points(unit) == Decimal("-1.00")
    reversal = PointsEntry.objects.get(kind="card_reversal")
    assert (reversal.points, red.reversal, reversal.occurred_at) == (
        Decimal("2.00"),
        reversal,
        red.breached_at,
    )
    item = SupervisionItem.objects.get()
    assert (item.status, item.closed_by) == ("closed", people["supervisor"])
    # and a later sweep does not issue it again
    frozen.move_to(at("2026-12-10 00:00"))
    assert sweep_run(as_of=at("2026-12-10 00:00")).counts.red == 0
    assert Card.objects.filter(kind="red").count() == 1


def test_revocation_is_for_the_supervision_office_with_a_reason(yellow_node, people):
    card = Card.objects.get()
    for who in ("leader", "principal", "staff"):
        before = snapshot()
        with pytest.raises(PermissionDenied):
            card_revoke(card=card, actor=people[who], reason="理由")
        assert snapshot() == before
    before = snapshot()
    with pytest.raises(ValidationError):
        card_revoke(card=card, actor=people["supervisor"], reason="")
    assert snapshot() == before


def test_revoking_twice_or_yellow_before_red_is_a_conflict(yellow_node, people):
    sweep_run(as_of=at("2026-12-03 00:00"))
    yellow = Card.objects.get(kind="yellow")
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        card_revoke(card=yellow, actor=people["supervisor"], reason="误发")
    assert exc.value.code == "red_first"
    assert snapshot() == before
    red = Card.objects.get(kind="red")
    card_revoke(card=red, actor=people["supervisor"], reason="误发")
    before = snapshot()
    with pytest.raises(Conflict):
        card_revoke(card=red, actor=people["supervisor"], reason="误发")
    assert snapshot() == before


def test_red_card_lapses_a_pending_recommitment_submitted_too_late(unit, people, frozen):
    # given: a pending recommitment from before; then the committed date passes
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    rec = submit(node, people["staff"], new_due_date=dt.date(2026, 12, 5))
    recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="")
    frozen.move_to(at("2026-12-04 10:00"))
    second = submit(node, people["staff"], new_due_date=dt.date(2026, 12, 31))
    # when
    sweep_run(as_of=at("2026-12-06 00:00"))
    # then
    second.refresh_from_db()
    assert second.status == "lapsed"
    assert Card.objects.get(kind="red").deadline == dt.date(2026, 12, 5)


def test_supervision_item_inspection_and_close(yellow_node, people):
    sweep_run(as_of=at("2026-12-03 00:00"))
    item = SupervisionItem.objects.get()
    with pytest.raises(PermissionDenied):
        supervision_item_add_inspection(
            item=item,
            actor=people["leader"],
            mode="offline",
            inspected_on=dt.date(2026, 11, 30),
            text="现场",
        )
    record = supervision_item_add_inspection(
        item=item,
        actor=people["supervisor"],
        mode="offline",
        inspected_on=dt.date(2026, 11, 30),
        text="现场督查，企业已同意腾退",
    )
    assert (record.mode, record.author) == ("offline", people["supervisor"])
    with pytest.raises(ValidationError):
        supervision_item_close(item=item, actor=people["supervisor"], note="")
    supervision_item_close(item=item, actor=people["supervisor"], note="已办结")
    item.refresh_from_db()
    assert (item.status, item.close_note) == ("closed", "已办结")
    assert InspectionRecord.objects.count() == 1


def test_completion_marks_the_item_ready_to_close(yellow_node, people, frozen):
    sweep_run(as_of=at("2026-12-03 00:00"))
    frozen.move_to(at("2026-12-04 09:00"))
    node_complete(node=yellow_node, actor=people["staff"], note="已签订协议")
    item = SupervisionItem.objects.get()
    yellow_node.refresh_from_db()
    assert (yellow_node.completed_at, yellow_node.progress) == (at("2026-12-04 09:00"), 100)
    latest = yellow_node.history.first()
    assert (latest.history_user, latest.history_date) == (people["staff"], at("2026-12-04 09:00"))
    assert (item.status, item.ready_to_close_at, item.is_ready_to_close) == (
        "open",
        at("2026-12-04 09:00"),
        True,
    )
    with pytest.raises(Conflict):
        node_complete(node=yellow_node, actor=people["staff"], note="")


def test_progress_report_by_the_units_staff_only(unit, people):
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 26))
    report = node_progress_report(
        node=node, actor=people["staff"], percent=40, note="评估报告已完成"
    )
    node.refresh_from_db()
    assert (node.progress, report.percent, report.author) == (40, 40, people["staff"])
    for bad in (-1, 101, "50", None):
        with pytest.raises(ValidationError):
            node_progress_report(node=node, actor=people["staff"], percent=bad)
    with pytest.raises(PermissionDenied):
        node_progress_report(node=node, actor=people["other_staff"], percent=50)
    node.refresh_from_db()
    assert (node.progress, ProgressReport.objects.count()) == (40, 1)


def test_records_are_stored_in_chinese_when_the_writer_reads_english(yellow_node, people):
    """What is stored is read later by everyone: it is written in the county's language."""
    from django.utils import translation

    from projects.models import NodeEvent

    with translation.override("en"):
        submit(yellow_node, people["staff"])
    event = NodeEvent.objects.get(kind="recommitment_submitted")
    assert event.message == "提交重新承诺：12月20日（周日）前完成"
    assert (
        Notification.objects.filter(kind="recommitment_waiting")
        .first()
        .title.endswith("提交了重新承诺，待您审批")
    )


def test_after_a_revoked_red_card_the_approved_date_still_has_teeth(yellow_node, people, frozen):
    # given: red for the grace window, revoked (the unit had explained on paper in time)
    sweep_run(as_of=at("2026-12-03 00:00"))
    frozen.move_to(at("2026-12-03 09:00"))
    card_revoke(
        card=Card.objects.get(kind="red"), actor=people["supervisor"], reason="单位已按时线下说明"
    )
    # when: the unit recommits, the leader approves, and the new date passes
    rec = submit(yellow_node, people["staff"], new_due_date=dt.date(2026, 12, 10))
    recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="同意")
    assert sweep_run(as_of=at("2026-12-10 23:59")).counts.red == 0
    again = sweep_run(as_of=at("2026-12-11 00:00"))
    # then: a new red card for the new deadline; the revoked one is not issued again
    assert again.counts.red == 1
    assert sorted(Card.objects.filter(kind="red").values_list("deadline", "revoked_at")) == [
        (dt.date(2026, 12, 2), at("2026-12-03 09:00")),
        (dt.date(2026, 12, 10), None),
    ]
    assert unit_points(yellow_node.unit) == Decimal("-3.00")


def test_a_date_out_of_this_century_is_refused(yellow_node, people):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        submit(yellow_node, people["staff"], new_due_date=dt.date(9999, 12, 31))
    assert exc.value.message_dict == {"new_due_date": ["日期须在 2000-01-01 至 2099-12-31 之间。"]}
    assert snapshot() == before


def test_completion_lapses_a_pending_recommitment(yellow_node, people):
    rec = submit(yellow_node, people["staff"])
    node_complete(node=yellow_node, actor=people["staff"], note="已办结")
    rec.refresh_from_db()
    assert (rec.status, rec.decided_at) == ("lapsed", NOW)
    with pytest.raises(Conflict):
        recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="")


def extension_pending(node, people, frozen):
    """An approved date (12-05, breached 12-06 00:00) and a second recommitment waiting."""
    first = submit(node, people["staff"], new_due_date=dt.date(2026, 12, 5))
    recommitment_decide(recommitment=first, actor=people["leader"], approve=True, comment="同意")
    frozen.move_to(at("2026-12-04 10:00"))
    return submit(node, people["staff"], reason="仍需时间", new_due_date=dt.date(2026, 12, 20))


def decision_trail(rec):
    """What is recorded about a recommitment: its history, its node events, its notice."""
    from projects.models import NodeEvent

    return (
        [h.status for h in rec.history.order_by("history_date", "history_id")],
        sorted(
            e.kind
            for e in NodeEvent.objects.filter(node=rec.node_id)
            if e.data.get("recommitment") == rec.pk
        ),
        Notification.objects.filter(event_key=f"recommitment:{rec.pk}:decided").count(),
    )


def test_a_red_card_first_lapses_the_recommitment_and_the_decision_finds_it_lapsed(
    yellow_node, people, frozen
):
    # given
    rec = extension_pending(yellow_node, people, frozen)
    # when: the red card for 12-05 comes first
    assert sweep_run(as_of=at("2026-12-06 00:00")).counts.red == 1
    frozen.move_to(at("2026-12-06 09:00"))
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="同意")
    # then: lapsed stands; no decision was recorded
    assert exc.value.code == "already_decided"
    assert snapshot() == before
    rec.refresh_from_db()
    assert (rec.status, rec.decided_by, rec.decided_at, rec.comment) == (
        "lapsed",
        None,
        at("2026-12-06 00:00"),
        "已亮红牌，待审批的重新承诺自动失效",
    )
    assert decision_trail(rec) == (
        ["pending", "lapsed"],
        ["recommitment_lapsed", "recommitment_submitted"],
        0,
    )
    yellow_node.refresh_from_db()
    assert yellow_node.committed_due_date == dt.date(2026, 12, 5)
    red = Card.objects.get(kind="red")
    assert (red.deadline, red.breached_at) == (dt.date(2026, 12, 5), at("2026-12-06 00:00"))
    assert (PointsEntry.objects.count(), SupervisionItem.objects.count()) == (2, 1)


def test_a_decision_first_stands_and_the_red_card_follows_the_new_date(yellow_node, people, frozen):
    # given
    rec = extension_pending(yellow_node, people, frozen)
    # when: the leader approves before the approved date is breached
    frozen.move_to(at("2026-12-05 23:59"))
    recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="同意")
    at_old_breach = sweep_run(as_of=at("2026-12-06 00:00"))
    # then: approved stands, nothing lapsed, and the new date rules
    rec.refresh_from_db()
    yellow_node.refresh_from_db()
    assert (rec.status, rec.decided_by, rec.decided_at) == (
        "approved",
        people["leader"],
        at("2026-12-05 23:59"),
    )
    assert decision_trail(rec) == (
        ["pending", "approved"],
        ["recommitment_approved", "recommitment_submitted"],
        1,
    )
    assert yellow_node.committed_due_date == dt.date(2026, 12, 20)
    assert at_old_breach.counts.red == 0
    assert sweep_run(as_of=at("2026-12-20 23:59")).counts.red == 0
    assert sweep_run(as_of=at("2026-12-21 00:00")).counts.red == 1
    red = Card.objects.get(kind="red")
    assert (red.deadline, red.breached_at) == (dt.date(2026, 12, 20), at("2026-12-21 00:00"))
    assert (PointsEntry.objects.count(), SupervisionItem.objects.count()) == (2, 1)


def test_nobody_decides_a_recommitment_they_submitted(unit, people, yellow_node):
    """Domain rule 2: nobody decides a recommitment they submitted, even when they are also
    a leader in charge of the unit; another leader in charge or a principal still may."""
    # given: someone who is both staff and leader in charge of the unit submits
    both = make_user("staff", unit, username="both")
    from organization.models import RoleAssignment

    RoleAssignment.objects.create(user=both, role="leader", unit=unit)
    rec = submit(yellow_node, both)
    before = snapshot()
    # when / then
    with pytest.raises(PermissionDenied, match="不能审批自己提交的重新承诺"):
        recommitment_decide(recommitment=rec, actor=both, approve=True)
    assert snapshot() == before
    decided = recommitment_decide(recommitment=rec, actor=people["leader"], approve=True)
    assert (decided.status, decided.decided_by) == ("approved", people["leader"])
