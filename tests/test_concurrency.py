"""Two sweeps at once, two decisions at once: the database keeps every event exactly once."""

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections

from core.errors import Conflict
from projects.models import Node
from scoring.models import PointsEntry
from supervision.models import Card, Notification, Recommitment, SupervisionItem, SweepRun
from supervision.services import recommitment_decide, recommitment_submit, sweep_run
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SH = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def sweep_processes(n: int, now: str) -> list[str]:
    """Start n `manage.py sweep` processes at once on the test database; their outputs."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sweep", "--now", now],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outputs.append(out.strip().splitlines()[-1])
    return outputs


def counts(line: str) -> dict[str, int]:
    return {k: int(v) for k, v in (part.split("=") for part in line.split())}


def test_two_sweep_processes_at_once_leave_the_rows_of_one():
    # given: 120 overdue nodes of one unit with staff, a leader and the supervision office
    unit = UnitFactory(name="县经信局")
    make_user("staff", unit, username="s1")
    make_user("leader", unit, username="l1")
    make_user("supervisor", username="sup")
    NodeFactory.create_batch(120, unit=unit, due_date=dt.date(2026, 11, 20))
    # when
    outputs = sweep_processes(2, "2026-11-21T08:00+08:00")
    # then: one card, one deduction and three notifications per node, all told
    assert Card.objects.filter(kind="yellow").count() == 120
    assert PointsEntry.objects.count() == 120
    assert Notification.objects.count() == 360
    totals = [counts(o) for o in outputs]
    assert sum(t["yellow"] for t in totals) == 120
    assert sum(t["notifications"] for t in totals) == 360
    assert SweepRun.objects.filter(error="").count() == 2

    # and when: both again at once, past the grace window, red cards once each
    outputs = sweep_processes(2, "2026-11-26T00:00+08:00")
    totals = [counts(o) for o in outputs]
    assert sum(t["red"] for t in totals) == 120
    assert sum(t["items"] for t in totals) == 120
    assert Card.objects.filter(kind="red").count() == 120
    assert SupervisionItem.objects.count() == 120
    assert PointsEntry.objects.count() == 240
    assert Notification.objects.count() == 720


def test_concurrent_decisions_one_wins():
    # given
    unit = UnitFactory(name="县住建局")
    staff = make_user("staff", unit, username="s2")
    leader = make_user("leader", unit, username="l2")
    principal = make_user("principal", username="p2")
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        sweep_run(as_of=at("2026-11-27 00:00"))
        rec = recommitment_submit(
            node=node, actor=staff, reason="原因", new_due_date=dt.date(2026, 12, 20)
        )
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def decide(name, actor, approve):
        try:
            barrier.wait()
            recommitment_decide(recommitment=rec, actor=actor, approve=approve, comment="意见")
            results[name] = "ok"
        except Conflict as exc:
            results[name] = exc.code
        finally:
            connections.close_all()

    # when
    threads = [
        threading.Thread(target=decide, args=("leader", leader, True)),
        threading.Thread(target=decide, args=("principal", principal, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert sorted(results.values()) == ["already_decided", "ok"]
    rec.refresh_from_db()
    winner = "leader" if results["leader"] == "ok" else "principal"
    assert rec.status == ("approved" if winner == "leader" else "rejected")
    assert Notification.objects.filter(kind="recommitment_decided").count() == 1
    node.refresh_from_db()
    assert node.committed_due_date == (dt.date(2026, 12, 20) if winner == "leader" else None)


def test_concurrent_submissions_one_pending():
    unit = UnitFactory(name="县财政局")
    staff = make_user("staff", unit, username="s3")
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    barrier = threading.Barrier(2)
    results = []

    def submit(day):
        try:
            with time_machine.travel(at("2026-11-30 10:00"), tick=False):
                barrier.wait()
                recommitment_submit(node=node, actor=staff, reason="原因", new_due_date=day)
            results.append("ok")
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(dt.date(2026, 12, d),)) for d in (20, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_pending", "ok"]
    assert Recommitment.objects.filter(node=node, status="pending").count() == 1
    assert Node.objects.get(pk=node.pk).committed_due_date is None


def test_a_decision_during_a_pass_is_not_overwritten_by_a_stale_schedule():
    """A schedule worked out from facts that changed meanwhile must not survive the change."""
    from supervision.services import escalation

    # given: a yellow node with a pending recommitment (its clock stopped: settled)
    unit = UnitFactory(name="县投资促进中心")
    staff = make_user("staff", unit, username="s4")
    leader = make_user("leader", unit, username="l4")
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    with time_machine.travel(at("2026-11-30 09:00"), tick=False):
        sweep_run(as_of=at("2026-11-27 00:00"))
        rec = recommitment_submit(
            node=node, actor=staff, reason="原因", new_due_date=dt.date(2026, 12, 20)
        )
    facts_read = threading.Event()
    real_facts = escalation.node_facts

    def slow_facts(batch):
        result = real_facts(batch)
        facts_read.set()
        threading.Event().wait(1.0)  # the leader decides while the pass holds these facts
        return result

    def sweep():
        try:
            escalation.node_facts = slow_facts
            sweep_run(as_of=at("2026-11-30 10:00"))
        finally:
            escalation.node_facts = real_facts
            connections.close_all()

    # when
    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    assert facts_read.wait(30)
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        recommitment_decide(recommitment=rec, actor=leader, approve=False, comment="不同意")
    sweeper.join()
    # then: the rejection restarted the window, and the next pass sees it
    assert Node.objects.get(pk=node.pk).next_escalation_at is None
    assert sweep_run(as_of=at("2026-12-04 00:00")).counts.red == 1
