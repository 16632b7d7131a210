"""Races on PostgreSQL, run at once with real threads: a revocation never leaves a red card
or a pending recommitment on a node without a yellow card, and every service that changes a
node's escalation facts locks the node before any row about it."""

import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict
from projects.models import Node
from scoring.models import PointsEntry
from supervision.models import Card, Recommitment, SupervisionItem
from supervision.services import (
    card_revoke,
    node_change_due_date,
    node_complete,
    recommitment_decide,
    recommitment_submit,
    supervision_item_add_inspection,
    supervision_item_close,
    supervision_item_set_deadline,
    sweep_run,
)
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SH = ZoneInfo("Asia/Shanghai")
NODES = 30
ROUNDS = 3


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def run_at_once(calls: list) -> list:
    """Start every call in its own thread behind one barrier; what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # a deadlock, say: the assertions show it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def revoke_each(cards: list[Card], actor) -> dict[int, str]:
    """Revoke the cards one by one; per node, "ok" or the refusal's code."""
    outcome = {}
    for card in cards:
        try:
            card_revoke(card=card, actor=actor, reason="误发")
            outcome[card.node_id] = "ok"
        except Conflict as exc:
            outcome[card.node_id] = exc.code
    return outcome


def yellow_nodes(name: str, n: int = NODES):
    """n nodes of one new unit due 2026-11-26, yellow-carded at 11-27 00:00 by the sweep."""
    unit = UnitFactory(name=name)
    staff = make_user("staff", unit, username=f"{name}-staff")
    nodes = NodeFactory.create_batch(n, unit=unit, due_date=dt.date(2026, 11, 26))
    ids = [node.pk for node in nodes]
    sweep_run(as_of=at("2026-11-27 00:00"))
    assert Card.objects.filter(node_id__in=ids, kind="yellow").count() == n
    return unit, staff, nodes


def race_revoke_and_red(round_no: int, supervisor) -> dict[str, int]:
    # given: 30 yellow nodes whose grace window ended (red due at 12-03 00:00); the office
    # revokes their yellow cards from three threads, in three orders, while the sweep runs
    unit, _staff, nodes = yellow_nodes(f"县直部门{round_no}")
    yellows = list(Card.objects.filter(node__in=nodes, kind="yellow").order_by("node_id"))
    thirds = [yellows[0::3], yellows[1::3][::-1], yellows[2::3]]
    # when
    with time_machine.travel(at("2026-12-03 09:00"), tick=False):
        results = run_at_once(
            [lambda: sweep_run(as_of=at("2026-12-03 00:00"))]
            + [lambda part=part: revoke_each(part, supervisor) for part in thirds]
        )
    # then: every node ends one of two ways, with exactly its rows
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0].error == ""
    outcome = {**results[1], **results[2], **results[3]}
    assert len(outcome) == NODES
    tally = {"revoked": 0, "red": 0}
    for node in nodes:
        cards = {c.kind: c for c in Card.objects.filter(node=node)}
        yellow, red = cards["yellow"], cards.get("red")
        items = list(SupervisionItem.objects.filter(node=node).values_list("status", flat=True))
        if outcome[node.pk] == "ok":
            # the revocation came first: no red card was issued over the revoked yellow
            assert (yellow.revoked_at is not None, red, items) == (True, None, [])
            assert yellow.reversal.points == yellow.points
            tally["revoked"] += 1
        else:
            # the red card came first: the yellow stays, with the red card and its open item
            assert outcome[node.pk] == "red_first"
            assert (yellow.revoked_at, red.revoked_at, items) == (None, None, ["open"])
            assert red.breached_at == at("2026-12-03 00:00")
            assert yellow.reversal_id is None
            tally["red"] += 1
    # no red card in force over a revoked yellow, anywhere
    assert (
        not Card.objects.filter(node__in=nodes, kind="red", revoked_at__isnull=True)
        .filter(node__cards__kind="yellow", node__cards__revoked_at__isnull=False)
        .exists()
    )
    # the unit's points are exactly what the surviving cards deduct
    total = sum(PointsEntry.objects.filter(unit=unit).values_list("points", flat=True))
    assert total == -3 * tally["red"]
    assert results[0].counts.red == tally["red"]
    return tally


def test_revoking_yellow_cards_while_the_sweep_issues_red_cards():
    """A red card is never in force over a revoked yellow card (card_revoke locks the node
    first, and the red card re-reads the yellow under that lock)."""
    supervisor = make_user("supervisor", username="sup")
    tallies = [race_revoke_and_red(i, supervisor) for i in range(ROUNDS)]
    assert all(t["revoked"] + t["red"] == NODES for t in tallies)


def race_submit_and_revoke(round_no: int, supervisor) -> dict[str, int]:
    # given: 30 yellow nodes inside their grace window; staff submit a recommitment on each
    # while the office revokes their yellow cards in the opposite order
    unit, staff, nodes = yellow_nodes(f"乡镇{round_no}")
    yellows = list(Card.objects.filter(node__in=nodes, kind="yellow").order_by("-node_id"))

    def submit_each():
        outcome = {}
        for node in nodes:
            try:
                recommitment_submit(
                    node=node, actor=staff, reason="征迁未完成", new_due_date=dt.date(2026, 12, 20)
                )
                outcome[node.pk] = "ok"
            except Conflict as exc:
                outcome[node.pk] = exc.code
        return outcome

    # when
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        submitted, revoked = run_at_once([submit_each, lambda: revoke_each(yellows, supervisor)])
    # then
    assert not isinstance(submitted, Exception), submitted
    assert revoked == {card.node_id: "ok" for card in yellows}
    tally = {"lapsed": 0, "refused": 0}
    for node in nodes:
        recs = list(Recommitment.objects.filter(node=node).values_list("status", "comment"))
        if submitted[node.pk] == "ok":
            # submitted first: the revocation that followed ended its cycle
            assert recs == [("lapsed", "黄牌已撤销，重新承诺无需审批")]
            tally["lapsed"] += 1
        else:
            # revoked first: the submission was refused and left nothing
            assert (submitted[node.pk], recs) == ("node_not_yellow", [])
            tally["refused"] += 1
    assert not Recommitment.objects.filter(node__in=nodes, status="pending").exists()
    assert Card.objects.filter(node__in=nodes, revoked_at__isnull=True).count() == 0
    assert not Node.objects.filter(
        pk__in=[n.pk for n in nodes], committed_due_date__isnull=False
    ).exists()
    return tally


def test_submitting_recommitments_while_their_yellow_cards_are_revoked():
    """No pending (and later approvable) recommitment is left on a node with no yellow card."""
    supervisor = make_user("supervisor", username="sup")
    tallies = [race_submit_and_revoke(i, supervisor) for i in range(ROUNDS)]
    assert all(t["lapsed"] + t["refused"] == NODES for t in tallies)


# ---------------------------------------------------------------- lock order

LOCK = re.compile(r'FROM "(\w+)".*FOR (?:NO KEY )?UPDATE', re.S)


def locked_tables(call) -> list[str]:
    """The tables a call waits to lock rows of (SELECT ... FOR UPDATE), in order. The
    e-mail claim after the commit (SKIP LOCKED) never waits, so it cannot deadlock."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return [
        m.group(1)
        for q in captured.captured_queries
        if (m := LOCK.search(q["sql"])) and "SKIP LOCKED" not in q["sql"]
    ]


def node_locked_first(call) -> list[str]:
    tables = locked_tables(call)
    assert tables, "the service locked nothing"
    assert tables[0] == "projects_node", tables
    return tables


def test_every_service_that_changes_escalation_facts_locks_the_node_first():
    """The node's row lock comes before any lock on the rows about it (cards,
    recommitments, items): the one order every writer follows, so none deadlocks or
    acts on facts another is changing."""
    # given: four yellow nodes of one unit
    unit = UnitFactory(name="县财政局")
    staff = make_user("staff", unit, username="s")
    leader = make_user("leader", unit, username="l")
    supervisor = make_user("supervisor", username="sup")
    decided, moved, completed, revoked = NodeFactory.create_batch(
        4, unit=unit, due_date=dt.date(2026, 11, 26)
    )
    sweep_run(as_of=at("2026-11-27 00:00"))
    seen = {}
    # when / then: each service's first row lock is the node's
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        seen["recommitment_submit"] = node_locked_first(
            lambda: recommitment_submit(
                node=decided, actor=staff, reason="原因", new_due_date=dt.date(2026, 12, 20)
            )
        )
    rec = Recommitment.objects.get(node=decided)
    with time_machine.travel(at("2026-12-01 10:00"), tick=False):
        seen["recommitment_decide"] = node_locked_first(
            lambda: recommitment_decide(recommitment=rec, actor=leader, approve=True)
        )
        seen["node_change_due_date"] = node_locked_first(
            lambda: node_change_due_date(
                node=moved, actor=supervisor, due_date=dt.date(2026, 12, 28), reason="调整"
            )
        )
    with time_machine.travel(at("2026-12-03 10:00"), tick=False):
        # red cards (grace over) for the three nodes without a recommitment
        seen["sweep"] = node_locked_first(lambda: sweep_run(as_of=at("2026-12-03 00:00")))
    assert Card.objects.filter(kind="red").count() == 3
    item = SupervisionItem.objects.get(node=completed)
    with time_machine.travel(at("2026-12-04 10:00"), tick=False):
        seen["supervision_item_set_deadline"] = node_locked_first(
            lambda: supervision_item_set_deadline(
                item=item, actor=supervisor, deadline=dt.date(2026, 12, 31)
            )
        )
        seen["supervision_item_add_inspection"] = node_locked_first(
            lambda: supervision_item_add_inspection(
                item=item,
                actor=supervisor,
                mode="online",
                inspected_on=dt.date(2026, 12, 4),
                text="电话督促",
            )
        )
        seen["node_complete"] = node_locked_first(
            lambda: node_complete(node=completed, actor=staff, note="已办结")
        )
        seen["supervision_item_close"] = node_locked_first(
            lambda: supervision_item_close(item=item, actor=supervisor, note="已销号")
        )
        red = Card.objects.get(node=revoked, kind="red")
        seen["card_revoke"] = node_locked_first(
            lambda: card_revoke(card=red, actor=supervisor, reason="误发")
        )
    # the rows about the node are locked after it
    assert seen["recommitment_decide"] == ["projects_node", "supervision_recommitment"]
    assert seen["card_revoke"] == [
        "projects_node",
        "supervision_card",
        "supervision_supervisionitem",
    ]
    assert seen["node_complete"] == [
        "projects_node",
        "supervision_supervisionitem",
        "supervision_recommitment",
    ]
    assert seen["supervision_item_close"] == ["projects_node", "supervision_supervisionitem"]
    assert set(seen) == {
        "recommitment_submit",
        "recommitment_decide",
        "node_change_due_date",
        "sweep",
        "supervision_item_set_deadline",
        "supervision_item_add_inspection",
        "node_complete",
        "supervision_item_close",
        "card_revoke",
    }
