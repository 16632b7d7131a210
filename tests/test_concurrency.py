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


def node_with_an_extension_waiting(name: str):
    """A yellow node whose approved date (12-05) is breached at 12-06 00:00 while a second
    recommitment (to 12-20) waits for the leader."""
    unit = UnitFactory(name=name)
    staff = make_user("staff", unit, username=f"{name}-staff")
    leader = make_user("leader", unit, username=f"{name}-leader")
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    with time_machine.travel(at("2026-11-30 10:00"), tick=False) as traveller:
        sweep_run(as_of=at("2026-11-27 00:00"))
        first = recommitment_submit(
            node=node, actor=staff, reason="原因", new_due_date=dt.date(2026, 12, 5)
        )
        recommitment_decide(recommitment=first, actor=leader, approve=True, comment="同意")
        traveller.move_to(at("2026-12-04 10:00"))
        second = recommitment_submit(
            node=node, actor=staff, reason="仍需时间", new_due_date=dt.date(2026, 12, 20)
        )
    return node, second, leader


def one_outcome_stands(node, rec, leader, decided: str) -> str:
    """Exactly one of "approved" or "lapsed" stands for the recommitment, with what goes with it."""
    from projects.models import NodeEvent

    rec.refresh_from_db()
    node.refresh_from_db()
    trail = (
        [h.status for h in rec.history.order_by("history_date", "history_id")],
        sorted(
            e.kind
            for e in NodeEvent.objects.filter(node=node)
            if e.data.get("recommitment") == rec.pk
        ),
        Notification.objects.filter(event_key=f"recommitment:{rec.pk}:decided").count(),
    )
    reds = list(Card.objects.filter(node=node, kind="red").values_list("deadline", "breached_at"))
    rows = (
        sum(1 + (card.reversal_id is not None) for card in Card.objects.filter(node=node)),
        SupervisionItem.objects.filter(node=node).count(),
    )
    if rec.status == "approved":
        assert decided == "ok"
        assert (rec.decided_by, node.committed_due_date) == (leader, dt.date(2026, 12, 20))
        assert trail == (
            ["pending", "approved"],
            ["recommitment_approved", "recommitment_submitted"],
            1,
        )
        assert (reds, rows) == ([], (1, 0))
    else:
        assert decided == "already_decided"
        assert (rec.status, rec.decided_by, rec.decided_at) == (
            "lapsed",
            None,
            at("2026-12-06 00:00"),
        )
        assert node.committed_due_date == dt.date(2026, 12, 5)
        assert trail == (
            ["pending", "lapsed"],
            ["recommitment_lapsed", "recommitment_submitted"],
            0,
        )
        assert (reds, rows) == ([(dt.date(2026, 12, 5), at("2026-12-06 00:00"))], (2, 1))
    return rec.status


def in_threads(**calls) -> dict:
    """Run each call in its own thread; what each returned, its Conflict's code or its error."""
    results: dict = {}

    def run(name, call):
        try:
            results[name] = call()
        except Conflict as exc:
            results[name] = exc.code
        except Exception as exc:  # a deadlock, say: the assertions show it
            results[name] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def race_a_decision_and_a_red_card(name: str) -> str:
    """The leader approves at 23:59 as the sweep works out 12-06 00:00, both at once."""
    node, rec, leader = node_with_an_extension_waiting(name)
    barrier = threading.Barrier(2)

    def decide():
        barrier.wait()
        recommitment_decide(recommitment=rec, actor=leader, approve=True, comment="同意")
        return "ok"

    def sweep():
        barrier.wait()
        return sweep_run(as_of=at("2026-12-06 00:00")).error

    with time_machine.travel(at("2026-12-05 23:59"), tick=False):
        results = in_threads(leader=decide, sweep=sweep)
    assert results["sweep"] == ""
    return one_outcome_stands(node, rec, leader, results["leader"])


def test_a_decision_and_a_red_card_at_once_leave_one_outcome():
    outcomes = [race_a_decision_and_a_red_card(f"县直部门{i}") for i in range(4)]
    assert set(outcomes) <= {"approved", "lapsed"}


def test_a_decision_while_the_red_card_is_written_finds_the_recommitment_lapsed(monkeypatch):
    from supervision.services import escalation

    # given: the sweep has locked the node and written the red card when the leader decides
    node, rec, leader = node_with_an_extension_waiting("县发展改革委")
    red_written = threading.Event()
    real = escalation._red_card_follow_up

    def slow_follow_up(*args, **kwargs):
        red_written.set()
        threading.Event().wait(1.5)  # the leader decides meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(escalation, "_red_card_follow_up", slow_follow_up)

    def decide():
        assert red_written.wait(30)
        recommitment_decide(recommitment=rec, actor=leader, approve=True, comment="同意")
        return "ok"

    # when
    with time_machine.travel(at("2026-12-05 23:59"), tick=False):
        results = in_threads(sweep=lambda: sweep_run(as_of=at("2026-12-06 00:00")), leader=decide)
    # then: the decision waited for the node and found the recommitment lapsed
    assert results["sweep"].error == ""
    assert one_outcome_stands(node, rec, leader, results["leader"]) == "lapsed"


def test_a_red_card_while_a_decision_is_written_follows_the_decision(monkeypatch):
    from supervision.services import recommitments

    # given: the leader has locked the node and written the approval when the sweep runs
    node, rec, leader = node_with_an_extension_waiting("县教育局")
    decided = threading.Event()
    real = recommitments.notifications_create

    def slow_notify(*args, **kwargs):
        decided.set()
        threading.Event().wait(1.5)  # the sweep runs meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(recommitments, "notifications_create", slow_notify)

    def decide():
        recommitment_decide(recommitment=rec, actor=leader, approve=True, comment="同意")
        return "ok"

    def sweep():
        assert decided.wait(30)
        return sweep_run(as_of=at("2026-12-06 00:00"))

    # when
    with time_machine.travel(at("2026-12-05 23:59"), tick=False):
        results = in_threads(leader=decide, sweep=sweep)
    # then: the sweep waited for the node and saw the new date
    assert (results["sweep"].error, results["sweep"].counts.red) == ("", 0)
    assert one_outcome_stands(node, rec, leader, results["leader"]) == "approved"
    assert Node.objects.get(pk=node.pk).next_escalation_at == at("2026-12-21 00:00")


def test_a_revocation_while_a_decision_is_written_ends_the_cycle_after_it(monkeypatch):
    from projects.models import NodeEvent
    from supervision.services import card_revoke, recommitments

    # given: the leader has locked the node and written the approval when the office revokes
    node, rec, leader = node_with_an_extension_waiting("县卫生健康委")
    supervisor = make_user("supervisor", username="sup-revoke")
    decided = threading.Event()
    real = recommitments.notifications_create

    def slow_notify(*args, **kwargs):
        decided.set()
        threading.Event().wait(1.5)  # the office revokes meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(recommitments, "notifications_create", slow_notify)
    yellow = Card.objects.get(node=node, kind="yellow")

    def decide():
        recommitment_decide(recommitment=rec, actor=leader, approve=True, comment="同意")
        return "ok"

    def revoke():
        assert decided.wait(30)
        card_revoke(card=yellow, actor=supervisor, reason="误发")
        return "ok"

    # when
    with time_machine.travel(at("2026-12-05 23:59"), tick=False):
        results = in_threads(leader=decide, office=revoke)
    # then: the approval stands, and the revocation after it cleared the date it set
    assert results == {"leader": "ok", "office": "ok"}
    rec.refresh_from_db()
    node.refresh_from_db()
    assert (rec.status, rec.decided_by, node.committed_due_date) == ("approved", leader, None)
    assert [h.status for h in rec.history.order_by("history_date", "history_id")] == [
        "pending",
        "approved",
    ]
    assert NodeEvent.objects.get(node=node, kind="card_revoked").data == {
        "card": yellow.pk,
        "old_committed_due_date": "2026-12-20",
    }
    assert not NodeEvent.objects.filter(node=node, kind="recommitment_lapsed").exists()


def test_a_deadline_set_while_a_completion_is_written_is_kept(monkeypatch):
    from supervision.services import node_complete, nodes, supervision_item_set_deadline

    # given: a red-carded node on the priority list; its staff complete it while the office
    # sets the item's supervised deadline
    unit = UnitFactory(name="县城管局")
    staff = make_user("staff", unit, username="s-item")
    supervisor = make_user("supervisor", username="sup-item")
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 00:00"))
    sweep_run(as_of=at("2026-12-03 00:00"))
    item = SupervisionItem.objects.get(node=node)
    completing = threading.Event()
    real = nodes.audited_save

    def slow_save(*args, **kwargs):
        completing.set()
        threading.Event().wait(1.5)  # the office sets the deadline meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(nodes, "audited_save", slow_save)

    def complete():
        node_complete(node=node, actor=staff, note="已办结")
        return "ok"

    def set_deadline():
        assert completing.wait(30)
        supervision_item_set_deadline(item=item, actor=supervisor, deadline=dt.date(2026, 12, 31))
        return "ok"

    # when
    with time_machine.travel(at("2026-12-04 09:00"), tick=False):
        results = in_threads(staff=complete, office=set_deadline)
    # then: neither write is lost
    assert results == {"staff": "ok", "office": "ok"}
    item.refresh_from_db()
    assert (item.status, item.ready_to_close_at, item.supervised_deadline) == (
        "open",
        at("2026-12-04 09:00"),
        dt.date(2026, 12, 31),
    )
