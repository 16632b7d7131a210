"""Three sweep workers at once on a generated data set: every card exactly once.

Only the public service (sweep_run) and the rows it leaves are used, so this holds for
whatever way the sweep goes through the nodes.
"""

import datetime as dt
import threading
from collections import Counter

import pytest
import time_machine
from django.db import connections
from django.db.models import Count

from demo.scale import scale_generate, scale_instants
from projects.models import Node
from scoring.models import PointsEntry
from supervision.models import Card, Notification, SupervisionItem, SweepRun
from supervision.services import sweep_run
from supervision.services.facts import EscalationContext, node_facts

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TODAY = dt.date(2026, 12, 7)
CATCH_UP, TODAY_START = scale_instants(TODAY)
WORKERS = 3


def sweeps_at_once(as_of: dt.datetime) -> list[SweepRun]:
    """Three sweep_run calls as of the same instant, each in its own thread and connection."""
    barrier = threading.Barrier(WORKERS)
    runs: list[int] = []
    failures: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            runs.append(sweep_run(as_of=as_of).pk)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures
    assert len(runs) == WORKERS
    return list(SweepRun.objects.filter(pk__in=runs))


def assert_every_card_once(as_of: dt.datetime, runs: list[SweepRun]) -> int:
    """The invariants after concurrent sweeps as of `as_of`; the number of cards they issued."""
    assert [run.error for run in runs] == [""] * WORKERS
    # nothing more owed: by the rules, and by a further sweep
    ctx = EscalationContext.load()
    nodes = list(Node.objects.all())
    facts = node_facts(nodes)
    owed = [n.pk for n in nodes if ctx.evaluate(facts[n.pk], as_of).due is not None]
    assert owed == []
    # no card twice for the same deadline, one deduction per card, one item per red card
    keys = Counter(Card.objects.values_list("node_id", "kind", "deadline"))
    assert [k for k, n in keys.items() if n > 1] == []
    cards = Card.objects.count()
    assert PointsEntry.objects.filter(kind="card_deduction").count() == cards
    assert Card.objects.values("deduction_id").distinct().count() == cards
    for node_id, unit_id, points, entry_node, entry_unit, entry_points in Card.objects.values_list(
        "node_id",
        "unit_id",
        "points",
        "deduction__node_id",
        "deduction__unit_id",
        "deduction__points",
    ):
        assert (entry_node, entry_unit, entry_points) == (node_id, unit_id, -points)
    red = Card.objects.filter(kind="red")
    assert SupervisionItem.objects.count() == red.count()
    assert red.filter(supervision_item__isnull=True).count() == 0
    # each person hears of each event once
    assert (
        list(
            Notification.objects.values("recipient", "event_key")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        == []
    )
    # the three runs' counts add up to the cards they wrote
    issued = Card.objects.filter(issued_at=as_of)
    assert sum(run.yellow for run in runs) == issued.filter(kind="yellow").count()
    assert sum(run.red for run in runs) == issued.filter(kind="red").count()
    assert sum(run.items for run in runs) == SupervisionItem.objects.filter(opened_at=as_of).count()
    assert sum(run.notifications for run in runs) == (
        Notification.objects.filter(created_at=as_of).count()
    )
    again = sweep_run(as_of=as_of)
    assert (again.yellow, again.red, again.items, again.error) == (0, 0, 0, "")
    return issued.count()


def test_three_sweep_workers_at_once_issue_every_card_exactly_once():
    # given: 1,000 nodes with three years of history; 200 fell due since the catch-up sweep
    result = scale_generate(
        projects=40,
        nodes_per_project=25,
        today=TODAY,
        overdue_fraction=0.2,
        seed=11,
        chunk=15,
        pipeline=True,  # as the command writes on PostgreSQL: a writer thread per chunk
    )
    assert len(result.overdue) == 200
    history = Card.objects.count()
    with time_machine.travel(TODAY_START + dt.timedelta(hours=9), tick=False):
        # when: three workers sweep as of this morning
        as_of = TODAY_START + dt.timedelta(hours=8)
        runs = sweeps_at_once(as_of)
        # then: a yellow card for each overdue node, once
        assert assert_every_card_once(as_of, runs) == 200
        assert set(
            Card.objects.filter(issued_at=as_of).values_list(
                "node__project__code", "node__seq", "kind"
            )
        ) == {(code, seq, "yellow") for code, seq in result.overdue}
        assert Card.objects.count() == history + 200

    with time_machine.travel(TODAY_START + dt.timedelta(days=14, hours=9), tick=False):
        # when: two weeks on, nobody answered: red cards, and new yellow ones for nodes
        # that fell due meanwhile, three workers at once again
        as_of = TODAY_START + dt.timedelta(days=14)
        runs = sweeps_at_once(as_of)
        # then
        issued = assert_every_card_once(as_of, runs)
        red = Card.objects.filter(issued_at=as_of, kind="red")
        assert red.count() >= 200  # every overdue node's grace window has run out
        assert issued > red.count()  # and some nodes fell due in the two weeks
