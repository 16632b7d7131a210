"""The sweep against the database: cards, deductions, items and notifications, exactly once."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Node, NodeEvent
from scoring.models import PointsEntry, RuleVersion
from supervision import tasks
from supervision.calendar import calendar_warning
from supervision.models import (
    CalendarDay,
    Card,
    Notification,
    Recommitment,
    SupervisionItem,
    SweepRun,
)
from supervision.services import (
    card_revoke,
    node_change_due_date,
    notifications_deliver_all,
    recommitment_decide,
    recommitment_submit,
    sweep_run,
)
from supervision.services.facts import ESCALATION_SETTLED
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def rows():
    """Every row the sweep writes, as comparable tuples."""
    return {
        "cards": sorted(Card.objects.values_list("node_id", "kind", "breached_at", "points")),
        "entries": sorted(
            [(c.pk, "card_deduction", c.deduction.points) for c in Card.objects.all()]
            + [
                (c.pk, "card_reversal", c.reversal.points)
                for c in Card.objects.exclude(reversal=None)
            ]
        ),
        "ledger": PointsEntry.objects.count(),
        "items": sorted(SupervisionItem.objects.values_list("card_id", "node_id")),
        "notifications": sorted(Notification.objects.values_list("recipient_id", "event_key")),
    }


@pytest.fixture
def unit():
    return UnitFactory(name="县自然资源和规划局")


@pytest.fixture
def people(unit):
    return {
        "staff": make_user("staff", unit, username="staff"),
        "leader": make_user("leader", unit, username="leader"),
        "principal": make_user("principal", username="principal"),
        "supervisor": make_user("supervisor", username="supervisor"),
        "other_staff": make_user("staff", UnitFactory(name="县住建局"), username="other"),
    }


def test_yellow_card_with_its_deduction_and_notifications(unit, people, capsys):
    # given
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    # when
    call_command("sweep", "--now", "2026-11-21T00:00+08:00")
    # then
    assert capsys.readouterr().out.strip() == "yellow=1 red=0 items=0 notifications=3"
    card = Card.objects.get()
    assert (card.node, card.unit, card.kind, card.deadline) == (node, unit, "yellow", node.due_date)
    assert card.breached_at == at("2026-11-21 00:00")
    assert card.issued_at == at("2026-11-21 00:00")
    assert card.points == Decimal("1.00")
    assert card.rule_version == RuleVersion.objects.get()
    entry = PointsEntry.objects.get()
    assert (entry.unit, entry.kind, entry.points, card.deduction) == (
        unit,
        "card_deduction",
        Decimal("-1.00"),
        entry,
    )
    assert entry.occurred_at == card.breached_at
    # the unit's staff, its leader in charge and the supervision office; not the principal
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "leader",
        "staff",
        "supervisor",
    ]
    assert card.history.first().history_user.username == "system"
    assert NodeEvent.objects.filter(node=node, kind="card_issued").count() == 1
    run = SweepRun.objects.get()
    assert (run.yellow, run.red, run.items, run.notifications, run.error) == (1, 0, 0, 3, "")
    assert run.as_of == at("2026-11-21 00:00") and run.finished_at is not None


def test_nothing_before_the_breach_instant(unit, people):
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    run = sweep_run(as_of=at("2026-11-20 23:59"))
    assert (run.yellow, Card.objects.count()) == (0, 0)
    assert Node.objects.get().next_escalation_at == at("2026-11-21 00:00")


def test_sweep_twice_gives_the_same_rows(unit, people):
    # given
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 10))
    sweep_run(as_of=at("2026-11-21 08:00"))
    first = rows()
    # when
    again = sweep_run(as_of=at("2026-11-21 08:10"))
    # then
    assert rows() == first
    assert (again.counts.yellow, again.counts.red, again.counts.notifications) == (0, 0, 0)
    assert len(first["cards"]) == 2 and len(first["entries"]) == 2


def test_after_a_five_day_outage_every_card_is_dated_at_its_true_breach(unit, people):
    # given: deadlines on each day of an outage that lasted from 11-21 to 11-26
    nodes = [
        NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20) + dt.timedelta(days=i))
        for i in range(5)
    ]
    # when
    run = sweep_run(as_of=at("2026-11-26 09:30"))
    # then
    assert run.counts.yellow == 5
    for node in nodes:
        card = Card.objects.get(node=node)
        assert card.breached_at == at(f"{node.due_date + dt.timedelta(days=1)} 00:00")
        assert card.issued_at == at("2026-11-26 09:30")
        assert card.deduction.occurred_at == card.breached_at


def test_a_node_completed_late_still_gets_its_yellow_card(unit, people):
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20), completed_at=at("2026-11-21 10:00"))
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20), completed_at=at("2026-11-20 23:00"))
    run = sweep_run(as_of=at("2026-11-22 00:00"))
    assert run.counts.yellow == 1
    assert Card.objects.get().node.completed_at == at("2026-11-21 10:00")
    assert (
        Node.objects.get(completed_at=at("2026-11-20 23:00")).next_escalation_at
        == ESCALATION_SETTLED
    )


def test_no_recommitment_in_three_working_days_brings_red_item_and_second_deduction(unit, people):
    # given: the yellow card is issued on Friday 2026-11-27
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    # when: the window runs to the end of Wednesday 12-02
    before = sweep_run(as_of=at("2026-12-02 23:59"))
    after = sweep_run(as_of=at("2026-12-03 00:00"))
    # then
    assert (before.counts.red, after.counts.red, after.counts.items) == (0, 1, 1)
    red = Card.objects.get(kind="red")
    assert (red.deadline, red.breached_at, red.points) == (
        dt.date(2026, 12, 2),
        at("2026-12-03 00:00"),
        Decimal("2.00"),
    )
    item = SupervisionItem.objects.get()
    assert (item.card, item.node, item.unit, item.status) == (red, node, unit, "open")
    assert sorted(PointsEntry.objects.values_list("points", flat=True)) == [
        Decimal("-2.00"),
        Decimal("-1.00"),
    ]


@time_machine.travel(at("2026-11-30 10:00"), tick=False)
def test_pending_recommitment_stops_the_clock_and_lapses_at_red(unit, people):
    # given
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    rec = recommitment_submit(
        node=node, actor=people["staff"], reason="征迁协议待签", new_due_date=dt.date(2026, 12, 20)
    )
    # when: well past the window, nothing more comes while it is pending
    assert sweep_run(as_of=at("2026-12-10 00:00")).counts.red == 0
    # and when it is approved, the committed date rules
    recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="同意")
    node.refresh_from_db()
    assert node.committed_due_date == dt.date(2026, 12, 20)
    assert sweep_run(as_of=at("2026-12-20 23:59")).counts.red == 0
    red_run = sweep_run(as_of=at("2026-12-21 00:00"))
    # then
    assert red_run.counts.red == 1
    assert Card.objects.get(kind="red").breached_at == at("2026-12-21 00:00")


@time_machine.travel(at("2026-11-30 10:00"), tick=False)
def test_rejection_restarts_the_window(unit, people):
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    rec = recommitment_submit(
        node=node, actor=people["staff"], reason="原因", new_due_date=dt.date(2026, 12, 20)
    )
    recommitment_decide(
        recommitment=rec, actor=people["leader"], approve=False, comment="理由不充分"
    )
    # rejected Monday 11-30: Tue, Wed, Thu are the working days, breach Friday 12-04 00:00
    assert sweep_run(as_of=at("2026-12-03 23:59")).counts.red == 0
    assert sweep_run(as_of=at("2026-12-04 00:00")).counts.red == 1
    assert Card.objects.get(kind="red").deadline == dt.date(2026, 12, 3)


def sweep_at(traveller, text: str) -> SweepRun:
    """The sweep as the schedule runs it: at that instant, as of that instant."""
    traveller.move_to(at(text))
    return sweep_run(as_of=at(text))


def revoked_cycle_then_new_date(traveller, unit, people, *, approve: bool) -> Node:
    """A yellow card, a recommitment (approved or not), then the card revoked and a new date."""
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    assert sweep_at(traveller, "2026-11-21 00:05").counts.yellow == 1
    traveller.move_to(at("2026-11-23 10:00"))
    rec = recommitment_submit(
        node=node, actor=people["staff"], reason="征迁协议待签", new_due_date=dt.date(2026, 12, 5)
    )
    if approve:
        traveller.move_to(at("2026-11-23 16:00"))
        recommitment_decide(recommitment=rec, actor=people["leader"], approve=True, comment="同意")
    traveller.move_to(at("2026-11-24 09:00"))
    card_revoke(card=Card.objects.get(), actor=people["supervisor"], reason="节点时间录入有误")
    node_change_due_date(
        node=node, actor=people["supervisor"], due_date=dt.date(2026, 12, 10), reason="调整计划"
    )
    return node


def cycle_rows(node):
    """The cards, points entries and supervision items of the node, as comparable tuples."""
    return {
        "cards": list(
            Card.objects.filter(node=node)
            .order_by("pk")
            .values_list("kind", "deadline", "breached_at", "issued_at", "revoked_at")
        ),
        "entries": [
            row[1:]
            for row in sorted(
                (entry.pk, card.kind, entry.kind, entry.points, entry.occurred_at)
                for card in Card.objects.filter(node=node)
                for entry in (card.deduction, card.reversal)
                if entry is not None
            )
        ],
        "items": list(
            SupervisionItem.objects.filter(node=node).values_list("card__kind", "status")
        ),
    }


# What both cases end with: the revoked card of the first cycle with its reversal, the
# new yellow card, and the red card the new cycle owes when no recommitment follows it
# (issued Friday 12-11: Mon 14, Tue 15 and Wed 16 are its working days).
AFTER_THE_NEW_CYCLE = {
    "cards": [
        (
            "yellow",
            dt.date(2026, 11, 20),
            at("2026-11-21 00:00"),
            at("2026-11-21 00:05"),
            at("2026-11-24 09:00"),
        ),
        ("yellow", dt.date(2026, 12, 10), at("2026-12-11 00:00"), at("2026-12-11 00:05"), None),
        ("red", dt.date(2026, 12, 16), at("2026-12-17 00:00"), at("2026-12-17 00:00"), None),
    ],
    "entries": [
        ("yellow", "card_deduction", Decimal("-1.00"), at("2026-11-21 00:00")),
        ("yellow", "card_reversal", Decimal("1.00"), at("2026-11-21 00:00")),
        ("yellow", "card_deduction", Decimal("-1.00"), at("2026-12-11 00:00")),
        ("red", "card_deduction", Decimal("-2.00"), at("2026-12-17 00:00")),
    ],
    "items": [("red", "open")],
}


def test_a_recommitment_of_a_revoked_cycle_does_not_stop_the_next_window(unit, people):
    with time_machine.travel(at("2026-11-21 00:05"), tick=False) as traveller:
        # given: the recommitment of 11-23 lapsed when the yellow card was revoked
        node = revoked_cycle_then_new_date(traveller, unit, people, approve=False)
        assert list(Recommitment.objects.values_list("status", "decided_at")) == [
            ("lapsed", at("2026-11-24 09:00"))
        ]
        # when: a new yellow card on Friday 12-11, and no recommitment follows
        issued = sweep_at(traveller, "2026-12-11 00:05")
        schedule = Node.objects.get(pk=node.pk).next_escalation_at
        before = sweep_at(traveller, "2026-12-16 23:59")
        after = sweep_at(traveller, "2026-12-17 00:00")
    # then: the new window runs to the end of Wednesday 12-16; red at Thursday 00:00
    assert (issued.counts.yellow, issued.counts.red, issued.counts.items) == (1, 0, 0)
    assert schedule == at("2026-12-17 00:00")
    assert (before.counts.yellow, before.counts.red) == (0, 0)
    assert (after.counts.yellow, after.counts.red, after.counts.items) == (0, 1, 1)
    assert cycle_rows(node) == AFTER_THE_NEW_CYCLE
    assert Node.objects.get(pk=node.pk).next_escalation_at == ESCALATION_SETTLED


def test_a_date_approved_in_a_revoked_cycle_no_longer_rules(unit, people):
    with time_machine.travel(at("2026-11-21 00:05"), tick=False) as traveller:
        # given: a recommitment to 12-05 approved before the yellow card was revoked
        node = revoked_cycle_then_new_date(traveller, unit, people, approve=True)
        # then: the revocation ended the cycle and cleared its date, with who and the old value
        node.refresh_from_db()
        assert (node.due_date, node.committed_due_date) == (dt.date(2026, 12, 10), None)
        assert [
            (h.committed_due_date, h.history_user.username, h.history_change_reason)
            for h in node.history.order_by("history_date", "history_id")[1:]
        ] == [
            (dt.date(2026, 12, 5), "leader", "批准重新承诺"),
            (None, "supervisor", "撤销亮牌"),
            (None, "supervisor", "调整计划"),
        ]
        revoked = NodeEvent.objects.get(node=node, kind="card_revoked")
        assert revoked.data == {
            "card": Card.objects.get().pk,
            "old_committed_due_date": "2026-12-05",
        }
        # and the old date is not what the unit is reminded of
        for day in ("2026-12-02", "2026-12-04", "2026-12-07", "2026-12-09"):
            sweep_at(traveller, f"{day} 09:00")
        # when: the new yellow card, in a pass after the old date's breach (12-06 00:00)
        issued = sweep_at(traveller, "2026-12-11 00:05")
        before = sweep_at(traveller, "2026-12-16 23:59")
        after = sweep_at(traveller, "2026-12-17 00:00")
    # then: no red card at 12-11 00:05, and the red card of the new cycle's window
    assert sorted(
        Notification.objects.filter(kind="reminder").values_list("event_key", flat=True).distinct()
    ) == [f"reminder:{node.pk}:20261210:1", f"reminder:{node.pk}:20261210:3"]
    assert (issued.counts.yellow, issued.counts.red, issued.counts.items) == (1, 0, 0)
    assert (before.counts.yellow, before.counts.red) == (0, 0)
    assert (after.counts.yellow, after.counts.red, after.counts.items) == (0, 1, 1)
    assert cycle_rows(node) == AFTER_THE_NEW_CYCLE
    assert Recommitment.objects.get().status == "approved"


def test_year_outside_the_calendar_falls_back_to_weekdays_with_a_warning(unit, people):
    # given: a yellow card issued on Thursday 2026-12-31; 2027 is not in the packaged calendar
    NodeFactory(unit=unit, due_date=dt.date(2026, 12, 30))
    sweep_run(as_of=at("2026-12-31 00:00"))
    # then: Fri 01-01, Mon 01-04, Tue 01-05 count as working days
    assert "2027年" in calendar_warning(today=dt.date(2026, 12, 31))
    assert sweep_run(as_of=at("2027-01-05 23:59")).counts.red == 0
    assert sweep_run(as_of=at("2027-01-06 00:00")).counts.red == 1


def test_office_entered_holidays_override_the_fallback(unit, people):
    # given: the office enters New Year's Day 2027 as a holiday
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    NodeFactory(unit=unit, due_date=dt.date(2026, 12, 30))
    sweep_run(as_of=at("2026-12-31 00:00"))
    # then: Mon 01-04, Tue 01-05, Wed 01-06; and 2027 no longer warns
    assert sweep_run(as_of=at("2027-01-06 23:59")).counts.red == 0
    assert sweep_run(as_of=at("2027-01-07 00:00")).counts.red == 1
    assert calendar_warning(today=dt.date(2026, 12, 31)) is None


def test_make_up_saturday_entered_by_the_office_counts(unit, people):
    CalendarDay.objects.create(date=dt.date(2026, 11, 28), is_workday=True, name="调休上班")
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    # Sat 11-28, Mon 11-30, Tue 12-01
    assert sweep_run(as_of=at("2026-12-01 23:59")).counts.red == 0
    assert sweep_run(as_of=at("2026-12-02 00:00")).counts.red == 1


def test_changing_a_rule_applies_to_new_cards_only(unit, people):
    NodeFactory(unit=unit, due_date=dt.date(2026, 12, 30))
    NodeFactory(unit=unit, due_date=dt.date(2027, 1, 5))
    sweep_run(as_of=at("2027-01-01 00:00"))
    RuleVersion.objects.create(
        effective_from=dt.date(2027, 1, 1),
        yellow_points=Decimal("1.50"),
        red_points=Decimal("3"),
        reminder_days=[3, 1],
    )
    sweep_run(as_of=at("2027-01-06 00:00"))
    assert sorted(Card.objects.filter(kind="yellow").values_list("breached_at", "points")) == [
        (at("2026-12-31 00:00"), Decimal("1.00")),
        (at("2027-01-06 00:00"), Decimal("1.50")),
    ]
    assert sorted(PointsEntry.objects.values_list("points", flat=True)) == [
        Decimal("-1.50"),
        Decimal("-1.00"),
    ]


def test_reminders_three_and_one_day_before_each_once(unit, people):
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 10))
    made = [
        sweep_run(as_of=at(t)).counts.notifications
        for t in (
            "2026-12-06 09:00",
            "2026-12-07 09:00",
            "2026-12-07 09:10",
            "2026-12-08 09:00",
            "2026-12-09 09:00",
            "2026-12-09 09:10",
            "2026-12-10 09:00",
        )
    ]
    assert made == [0, 1, 0, 0, 1, 0, 0]
    assert sorted(
        Notification.objects.filter(kind="reminder").values_list("event_key", flat=True)
    ) == [
        f"reminder:{node.pk}:20261210:1",
        f"reminder:{node.pk}:20261210:3",
    ]


def test_sweep_reads_only_nodes_that_may_need_action(unit, people):
    """The cost of a pass follows the new breaches, not the number of nodes."""

    def queries_for_one_new_breach(due: dt.date) -> int:
        NodeFactory(unit=unit, due_date=due)
        with CaptureQueriesContext(connection) as ctx:
            run = sweep_run(as_of=at(f"{due + dt.timedelta(days=1)} 00:00"))
        assert (run.counts.yellow, run.nodes_checked) == (1, 1)
        return len(ctx.captured_queries)

    # given: a few nodes not yet due, their schedule worked out once
    NodeFactory.create_batch(5, unit=unit, due_date=dt.date(2027, 6, 1))
    sweep_run(as_of=at("2026-11-01 00:00"))
    few = queries_for_one_new_breach(dt.date(2026, 11, 20))
    # when: many more nodes
    NodeFactory.create_batch(80, unit=unit, due_date=dt.date(2027, 6, 1))
    sweep_run(as_of=at("2026-11-01 00:00"))
    many = queries_for_one_new_breach(dt.date(2026, 11, 21))
    # then
    assert few == many


def test_one_failing_node_does_not_stop_the_others_nor_the_reminders(unit, people, monkeypatch):
    # given: two overdue nodes and one due soon; evaluating the first one fails
    bad = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 19))
    good = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 24))
    from supervision.services.facts import EscalationContext

    real = EscalationContext.evaluate

    def flaky(self, facts, as_of):
        if facts.due_date == bad.due_date:
            raise ArithmeticError("boom")
        return real(self, facts, as_of)

    monkeypatch.setattr(EscalationContext, "evaluate", flaky)
    # when
    run = sweep_run(as_of=at("2026-11-21 08:00"))
    # then
    assert list(Card.objects.values_list("node", flat=True)) == [good.pk]
    assert Notification.objects.filter(kind="reminder").count() == 1
    assert f"node {bad.pk}" in run.error and "boom" in run.error
    bad.refresh_from_db()
    assert bad.next_escalation_at is None  # tried again next pass
    monkeypatch.setattr(EscalationContext, "evaluate", real)
    assert sweep_run(as_of=at("2026-11-21 08:10")).counts.yellow == 1


def test_a_pass_sends_no_email_and_the_task_sends_what_a_crash_left_unsent(
    unit, people, mailoutbox
):
    # given: a notification committed, whose after-commit e-mail never ran
    Notification.objects.create(
        recipient=people["staff"],
        kind="reminder",
        event_key="reminder:x",
        title="节点将到期",
        created_at=at("2026-11-20 09:00"),
    )
    # when: a pass, then the e-mail task twice
    with time_machine.travel(at("2026-11-20 09:10"), tick=False):
        sweep_run(as_of=at("2026-11-20 09:10"))
        assert mailoutbox == []
        assert tasks.email_deliver() == "sent=1"
        assert tasks.email_deliver() == "sent=0"
    # then: sent once
    assert [(m.subject, m.to) for m in mailoutbox] == [("节点将到期", [people["staff"].email])]
    assert Notification.objects.get().emailed_at == at("2026-11-20 09:10")


def test_the_email_task_sends_every_copy_due_a_round_at_a_time(unit, people, mailoutbox):
    # given: 7 copies due, and rounds of 3
    for i in range(7):
        Notification.objects.create(
            recipient=people["staff"],
            kind="reminder",
            event_key=f"reminder:{i}",
            title=f"提醒{i}",
            created_at=at("2026-11-20 09:00"),
        )
    # when
    with time_machine.travel(at("2026-11-20 09:10"), tick=False):
        sent = notifications_deliver_all(limit=3)
    # then: all of them, once each
    assert sent == 7
    assert sorted(m.subject for m in mailoutbox) == [f"提醒{i}" for i in range(7)]
    assert Notification.objects.filter(emailed_at=None).count() == 0
