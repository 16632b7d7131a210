"""The sweep works a batch of nodes at a time: one transaction, a few queries, whole or not at all."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Node, NodeEvent
from scoring.models import PointsEntry
from supervision.models import Card, Notification, SupervisionItem, SweepRun
from supervision.services import escalation, recommitment_submit, sweep_run
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def written() -> dict[str, int]:
    """How many rows of each kind the sweep writes there are."""
    return {
        "cards": Card.objects.count(),
        "card_history": Card.history.count(),
        "entries": PointsEntry.objects.count(),
        "entry_history": PointsEntry.history.count(),
        "items": SupervisionItem.objects.count(),
        "events": NodeEvent.objects.filter(kind__in=["card_issued", "item_opened"]).count(),
        "notifications": Notification.objects.count(),
    }


def units_with_people(n: int, prefix: str = "") -> list:
    units = [UnitFactory(name=f"{prefix}单位{i}") for i in range(n)]
    for i, unit in enumerate(units):
        make_user("staff", unit, username=f"{prefix}staff{i}")
        make_user("leader", unit, username=f"{prefix}leader{i}")
    make_user("supervisor", username=f"{prefix}office")
    return units


def queries_of_one_pass(nodes: int, units: list) -> int:
    for i in range(nodes):
        NodeFactory(unit=units[i % len(units)], due_date=dt.date(2026, 11, 20))
    with CaptureQueriesContext(connection) as ctx:
        run = sweep_run(as_of=at("2026-11-21 08:00"), batch_size=100)
    assert (run.counts.yellow, run.error) == (nodes, "")
    return len(ctx.captured_queries)


def test_a_batch_takes_the_same_queries_for_three_cards_as_for_forty():
    # given / when: 3 cards in 3 units, then (on a fresh set) 40 cards in 12 units (Django
    # splits a bulk insert past SQLite's 999 parameters; PostgreSQL takes a batch at once)
    few = queries_of_one_pass(3, units_with_people(3))
    Card.objects.all().delete()
    Notification.objects.all().delete()
    NodeEvent.objects.all().delete()
    many = queries_of_one_pass(40, units_with_people(12, prefix="新"))
    # then: a batch's queries do not grow with its cards or its units
    assert few == many


def test_a_killed_pass_leaves_only_whole_batches(monkeypatch):
    # given: six overdue nodes, worked two at a time; the pass dies in the third batch's writes
    units = units_with_people(1)
    nodes = NodeFactory.create_batch(6, unit=units[0], due_date=dt.date(2026, 11, 20))
    real = escalation._card_notifications
    calls = []

    def killed(o, ctx, as_of):
        calls.append(o.node.pk)
        if len(calls) == 5:  # the first node of the third batch
            raise KeyboardInterrupt  # as a killed process: nothing below it runs
        return real(o, ctx, as_of)

    monkeypatch.setattr(escalation, "_card_notifications", killed)
    # when
    with pytest.raises(KeyboardInterrupt):
        sweep_run(as_of=at("2026-11-21 08:00"), batch_size=2)
    # then: the first two batches are whole, the third left nothing
    carded = set(Card.objects.values_list("node_id", flat=True))
    assert carded == {n.pk for n in nodes[:4]}
    assert written() == {
        "cards": 4,
        "card_history": 4,
        "entries": 4,
        "entry_history": 4,
        "items": 0,
        "events": 4,
        "notifications": 4 * 3,
    }
    schedules = dict(Node.objects.values_list("pk", "next_escalation_at"))
    assert [schedules[n.pk] is None for n in nodes] == [False] * 4 + [True] * 2
    # and the next pass finishes the work, once
    monkeypatch.setattr(escalation, "_card_notifications", real)
    SweepRun.objects.all().delete()
    run = sweep_run(as_of=at("2026-11-21 08:10"), batch_size=2)
    assert (run.yellow, run.notifications, run.error) == (2, 6, "")
    assert Card.objects.count() == 6


def test_a_node_that_breaks_its_batch_is_worked_alone_and_the_others_are_carded(monkeypatch):
    # given: five overdue nodes in one batch; writing the third one's timeline fails
    units = units_with_people(1)
    nodes = NodeFactory.create_batch(5, unit=units[0], due_date=dt.date(2026, 11, 20))
    bad = nodes[2]
    real = escalation._events

    def broken(o, actor, as_of):
        if o.node.pk == bad.pk:
            raise ValueError("timeline broke")
        return real(o, actor, as_of)

    monkeypatch.setattr(escalation, "_events", broken)
    # when
    run = sweep_run(as_of=at("2026-11-21 08:00"), batch_size=10)
    # then: four cards, each whole; the bad node has nothing and is named in the error
    assert sorted(Card.objects.values_list("node_id", flat=True)) == sorted(
        n.pk for n in nodes if n != bad
    )
    # (a node whose work was undone is not counted as checked)
    assert (run.yellow, run.notifications, run.nodes_checked) == (4, 12, 4)
    assert f"node {bad.pk}" in run.error and "timeline broke" in run.error
    assert PointsEntry.objects.filter(node=bad).count() == 0
    assert Node.objects.get(pk=bad.pk).next_escalation_at is None  # tried again next pass
    monkeypatch.setattr(escalation, "_events", real)
    again = sweep_run(as_of=at("2026-11-21 08:10"))
    assert (again.yellow, again.error) == (1, "")


def test_a_red_card_in_a_batch_lapses_the_pending_recommitment_with_its_history():
    # given: a yellow node whose approved date (11-25) passes while a further
    # recommitment waits, and a fresh node breached long ago
    import time_machine

    from supervision.services import recommitment_decide

    units = units_with_people(1)
    staff = units[0].role_assignments.get(role="staff").user
    leader = units[0].role_assignments.get(role="leader").user
    node = NodeFactory(unit=units[0], due_date=dt.date(2026, 11, 20))
    sweep_run(as_of=at("2026-11-21 00:00"))
    with time_machine.travel(at("2026-11-23 09:00"), tick=False):
        first = recommitment_submit(
            node=node, actor=staff, reason="原因", new_due_date=dt.date(2026, 11, 25)
        )
        recommitment_decide(recommitment=first, actor=leader, approve=True, comment="同意")
    with time_machine.travel(at("2026-11-24 09:00"), tick=False):
        rec = recommitment_submit(
            node=Node.objects.get(pk=node.pk),
            actor=staff,
            reason="再次申请",
            new_due_date=dt.date(2026, 12, 30),
        )
    fresh = NodeFactory(unit=units[0], due_date=dt.date(2026, 11, 10))
    # when: one pass, both nodes in one batch
    run = sweep_run(as_of=at("2026-11-30 10:00"))
    # then: the old node's red card for its approved date and the fresh node's yellow
    # card, each dated at its breach
    assert sorted(Card.objects.values_list("node_id", "kind", "breached_at")) == sorted(
        [
            (node.pk, "yellow", at("2026-11-21 00:00")),
            (node.pk, "red", at("2026-11-26 00:00")),
            (fresh.pk, "yellow", at("2026-11-11 00:00")),
        ]
    )
    assert (run.yellow, run.red, run.items, run.error) == (1, 1, 1, "")
    # and the waiting recommitment lapsed, with its history, its event and its
    # approvers' notification settled
    rec.refresh_from_db()
    assert (rec.status, rec.decided_at) == ("lapsed", at("2026-11-30 10:00"))
    assert rec.history.first().history_change_reason == "已亮红牌，待审批的重新承诺自动失效"
    assert list(
        NodeEvent.objects.filter(node=node, occurred_at=at("2026-11-30 10:00"))
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == ["card_issued", "item_opened", "recommitment_lapsed"]
    waiting = Notification.objects.get(event_key=f"recommitment:{rec.pk}:waiting")
    assert waiting.read_at == at("2026-11-30 10:00")
