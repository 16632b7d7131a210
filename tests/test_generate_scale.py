"""generate_scale: the benchmark's data set is exactly as asked, the same for the same seed,
and agrees with the escalation rules (a catch-up sweep owes nothing, today's sweep owes
exactly the overdue fraction a yellow card each)."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F

from demo.scale import (
    SCALE_PASSWORD,
    ScaleRefused,
    scale_generate,
    scale_instants,
    scale_usernames,
)
from organization.models import Coverage, RoleAssignment, Unit, User
from projects.models import Enterprise, Node, NodeEvent, ProgressReport, Project
from scoring.models import PointsEntry
from supervision.models import Card, Recommitment, SupervisionItem
from supervision.services import sweep_run
from supervision.services.facts import EscalationContext, node_facts

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)
CATCH_UP, TODAY_START = scale_instants(TODAY)


def scale_digest() -> str:
    """A digest of the data set's content by natural keys (ids and history left out)."""
    node = ("node__project__code", "node__seq")
    tables = [
        Unit.objects.values_list("name", "kind"),
        User.objects.exclude(username="system").values_list(
            "username", "full_name", "email", "password", "date_joined"
        ),
        RoleAssignment.objects.values_list("user__username", "role", "unit__name"),
        Coverage.objects.values_list(
            "leader__username", "target", "locality__name", "enterprise__name", "project__code"
        ),
        Enterprise.objects.values_list("name", "locality__name"),
        Project.objects.values_list(
            "code",
            "name",
            "work_stream__code",
            "locality__name",
            "enterprise__name",
            "leader__username",
            "status",
            "start_date",
            "end_date",
            "created_at",
            "disposal_lines__method",
            "disposal_lines__area_mu",
        ),
        Node.objects.values_list(
            "project__code",
            "seq",
            "name",
            "unit__name",
            "owner",
            "due_date",
            "committed_due_date",
            "completed_at",
            "progress",
            "next_escalation_at",
            "created_at",
            "updated_at",
        ),
        Card.objects.values_list(
            *node, "kind", "deadline", "breached_at", "issued_at", "points", "deduction__reason"
        ),
        PointsEntry.objects.values_list(*node, "kind", "points", "occurred_at", "reason"),
        SupervisionItem.objects.values_list(*node, "card__kind", "opened_at", "ready_to_close_at"),
        Recommitment.objects.values_list(
            *node, "status", "new_due_date", "submitted_at", "decided_at", "decided_by__username"
        ),
        ProgressReport.objects.values_list(*node, "percent", "is_completion", "created_at"),
        NodeEvent.objects.values_list(*node, "kind", "occurred_at", "message", "actor__username"),
    ]
    digest = hashlib.sha256()
    for rows in tables:
        for row in sorted(rows.order_by(), key=repr):
            digest.update(repr(row).encode())
        digest.update(b"|")
    return digest.hexdigest()


def generate(projects=12, per=10, fraction=0.1, seed=7):
    return scale_generate(
        projects=projects,
        nodes_per_project=per,
        today=TODAY,
        overdue_fraction=fraction,
        seed=seed,
        chunk=5,  # several chunks even at this size
    )


def test_counts_are_exactly_as_asked():
    # when
    result = generate(projects=12, per=10, fraction=0.1)
    # then
    assert Project.objects.count() == 12
    assert Node.objects.count() == 120
    assert list(Project.objects.order_by("code").values_list("code", flat=True)) == [
        f"S{i:06d}" for i in range(1, 13)
    ]
    assert sorted(Node.objects.filter(project__code="S000001").values_list("seq", flat=True)) == (
        list(range(1, 11))
    )
    assert len(result.overdue) == 12  # 10% of 120
    assert result.counts["项目"] == 12
    assert result.counts["节点"] == 120
    assert result.counts["亮牌"] == Card.objects.count()
    # every node and card has its creation record, as an import leaves them
    assert Node.history.filter(history_type="+").count() == 120
    assert Card.history.count() == Card.objects.count()
    # every card has its own deduction, every red card its supervision item
    for card in Card.objects.select_related("deduction"):
        assert (card.deduction.node_id, card.deduction.points) == (card.node_id, -card.points)
    assert SupervisionItem.objects.count() == Card.objects.filter(kind="red").count()
    assert Unit.objects.filter(kind="department").exists()
    assert (
        Coverage.objects.filter(target="locality").count()
        == Unit.objects.exclude(kind="department").count()
    )
    assert Unit.objects.filter(kind__in=["township", "park"]).exists()


def test_the_same_seed_writes_the_same_rows_and_another_seed_does_not():
    # given
    sid = transaction.savepoint()
    generate(seed=7)
    first = scale_digest()
    transaction.savepoint_rollback(sid)
    assert not Project.objects.exists()
    # when
    sid = transaction.savepoint()
    generate(seed=7)
    again = scale_digest()
    transaction.savepoint_rollback(sid)
    generate(seed=8)
    other = scale_digest()
    # then
    assert again == first
    assert other != first


def test_a_catch_up_sweep_owes_nothing_and_todays_sweep_cards_exactly_the_overdue_nodes():
    # given
    result = generate(projects=40, per=10, fraction=0.1)
    cards_before = Card.objects.count()
    assert cards_before > 0  # the history has cards (and the rules agree with them, below)
    assert Card.objects.filter(kind="red").exists()
    assert Recommitment.objects.filter(status="approved").exists()
    assert Recommitment.objects.filter(status="rejected").exists()
    with time_machine.travel(TODAY_START + dt.timedelta(hours=9), tick=False):
        # when: the sweep as of the catch-up instant
        run = sweep_run(as_of=CATCH_UP)
        # then: it owes nothing the history does not hold already
        assert (run.yellow, run.red, run.error) == (0, 0, "")
        assert Card.objects.count() == cards_before
        # when: the sweep as of today, early and late in the day
        run = sweep_run(as_of=TODAY_START + dt.timedelta(hours=8))
        late = sweep_run(as_of=TODAY_START + dt.timedelta(hours=23, minutes=59))
    # then: a yellow card for each overdue node and nothing else
    assert (run.yellow, run.red, run.error) == (len(result.overdue), 0, "")
    assert (late.yellow, late.red) == (0, 0)
    carded = set(
        Card.objects.filter(issued_at=run.as_of).values_list("node__project__code", "node__seq")
    )
    assert carded == set(result.overdue)
    assert len(carded) == 40  # 10% of 400


def test_every_node_is_scheduled_as_the_sweep_would_store_it():
    # given
    generate(projects=10, per=10, fraction=0.1)
    ctx = EscalationContext.load()
    nodes = list(Node.objects.all())
    facts = node_facts(nodes)
    # then: nothing owed as of the catch-up instant, next instants as the rules say
    for node in nodes:
        evaluation = ctx.evaluate(facts[node.pk], CATCH_UP)
        assert evaluation.due is None, node
        if evaluation.next_check_at is None:
            assert node.next_escalation_at.year == 9000  # settled
        else:
            assert node.next_escalation_at == evaluation.next_check_at


def test_the_bench_accounts_sign_in_with_the_documented_password():
    # given
    generate(projects=3, per=4, fraction=0)
    names = scale_usernames()
    # then
    for username in names.values():
        assert authenticate(username=username, password=SCALE_PASSWORD) is not None, username
    staff = User.objects.get(username=names["staff"])
    assert RoleAssignment.objects.filter(user=staff, role="staff").count() == 1
    assert RoleAssignment.objects.filter(user__username=names["office"], role="supervisor").exists()


def test_the_command_prints_what_it_built_and_refuses_a_database_with_projects():
    # when
    out = StringIO()
    call_command(
        "generate_scale",
        "--projects",
        "3",
        "--nodes-per-project",
        "4",
        "--today",
        "2026-12-07",
        "--overdue-fraction",
        "0.25",
        stdout=out,
    )
    # then
    text = out.getvalue()
    assert "节点 12" in text
    assert "项目 3" in text
    assert "超期节点 3 个" in text
    assert "scale-staff-1" in text and "scale-office" in text and SCALE_PASSWORD in text
    # and when: again, on the data it wrote
    before = (Project.objects.count(), Node.objects.count(), Unit.objects.count())
    with pytest.raises(CommandError, match="已有项目"):
        call_command("generate_scale", "--projects", "3", "--nodes-per-project", "4")
    assert (Project.objects.count(), Node.objects.count(), Unit.objects.count()) == before
    with pytest.raises(ScaleRefused):
        generate()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--projects", "0", "--nodes-per-project", "4"], "正整数"),
        (["--projects", "2", "--nodes-per-project", "4", "--overdue-fraction", "1.5"], "0 到 1"),
        (["--projects", "2", "--nodes-per-project", "4", "--today", "12/07"], "YYYY-MM-DD"),
    ],
)
def test_the_command_refuses_bad_arguments_in_chinese(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_scale", *args)
    assert not Project.objects.exists()


def test_the_history_ends_at_the_catch_up_instant():
    # given
    generate(projects=20, per=10, fraction=0.1)
    # then: nothing happened after it, nothing before its node was entered
    assert not Node.objects.filter(created_at__gt=CATCH_UP).exists()
    assert not Node.objects.filter(completed_at__gt=CATCH_UP).exists()
    assert not Node.objects.filter(completed_at__lt=F("created_at")).exists()
    assert not ProgressReport.objects.filter(created_at__gt=CATCH_UP).exists()
    assert not ProgressReport.objects.filter(created_at__lt=F("node__created_at")).exists()
    assert not Card.objects.filter(issued_at__gt=CATCH_UP).exists()
    assert not Recommitment.objects.filter(decided_at__gt=CATCH_UP).exists()
    # a recommitment answers a yellow card, so comes after it
    assert not Recommitment.objects.filter(
        node__cards__kind="yellow", submitted_at__lt=F("node__cards__issued_at")
    ).exists()
    assert not NodeEvent.objects.filter(occurred_at__gt=CATCH_UP).exists()
    assert not NodeEvent.objects.filter(occurred_at__lt=F("node__created_at")).exists()
