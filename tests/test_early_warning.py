"""The early warning (序时进度预警): the pure rule as a table, and the database's version of it
held equal to the rule on SQLite and PostgreSQL alike."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine

from projects.models import Node, ProgressReport
from scoring.models import RuleVersion
from supervision import rules
from supervision.choices import Light
from supervision.rules import EscalationPolicy as Policy
from supervision.selectors import light_of, nodes_with_lag_facts, nodes_with_light
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory, make_user

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 12, 7)  # a Monday
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=SH)
POLICY = Policy(version_id=None, effective_from=dt.date(2026, 1, 1))  # 30 points, 14 days, 30 days


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# ---- the pure rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due", "today", "progress", "lag", "expected"),
    [
        # 100 days, 50 used: 50% of the time wants 50% done; behind by more than 30 lags
        ("2026-10-01", "2027-01-09", "2026-11-20", 20, 30, False),  # exactly 30 behind
        ("2026-10-01", "2027-01-09", "2026-11-20", 19, 30, True),  # 31 behind
        ("2026-10-01", "2027-01-09", "2026-11-20", 0, 30, True),
        ("2026-10-01", "2027-01-09", "2026-11-20", 60, 30, False),  # ahead
        ("2026-10-01", "2027-01-09", "2026-11-20", 39, 10, True),  # a stricter rule: 11 behind
        ("2026-10-01", "2027-01-09", "2026-11-20", 40, 10, False),
        # the first day: nothing used yet; before the start: nothing used either
        ("2026-10-01", "2027-01-09", "2026-10-01", 0, 30, False),
        ("2026-10-01", "2027-01-09", "2026-09-01", 0, 1, False),
        # 3 days: 1 used is 33.3%, so 3 points behind at 0% with a 30-point rule is fine,
        # 2 used (66.7%) at 36% is 30.7 behind: lagging
        ("2026-12-01", "2026-12-04", "2026-12-02", 0, 30, True),
        ("2026-12-01", "2026-12-04", "2026-12-03", 36, 30, True),
        ("2026-12-01", "2026-12-04", "2026-12-03", 37, 30, False),  # 29.7 behind
        # the due day: all the time used
        ("2026-12-01", "2026-12-04", "2026-12-04", 69, 30, True),
        ("2026-12-01", "2026-12-04", "2026-12-04", 70, 30, False),
        # past due: the share stays at 100%
        ("2026-12-01", "2026-12-04", "2026-12-20", 69, 30, True),
        # no time at all (due on or before its start): all used on the due day, not before
        ("2026-12-04", "2026-12-04", "2026-12-03", 0, 30, False),
        ("2026-12-04", "2026-12-04", "2026-12-04", 69, 30, True),
        ("2026-12-04", "2026-12-04", "2026-12-04", 70, 30, False),
        ("2026-12-10", "2026-12-04", "2026-12-04", 0, 30, True),
        ("2026-12-10", "2026-12-04", "2026-12-03", 0, 30, False),
        # 100 points behind can never be "more than 100"
        ("2026-10-01", "2026-12-04", "2026-12-04", 0, 100, False),
    ],
)
def test_behind_the_time_share(start, due, today, progress, lag, expected):
    assert (
        rules.behind_time_share(
            start=d(start), due=d(due), today=d(today), progress=progress, lag_points=lag
        )
        is expected
    )


@pytest.mark.parametrize(
    ("start", "due", "today", "progress", "points"),
    [
        ("2026-10-01", "2027-01-09", "2026-11-20", 19, 31),
        ("2026-10-01", "2027-01-09", "2026-11-20", 60, -10),
        ("2026-12-01", "2026-12-04", "2026-12-03", 36, 30),  # 66.7 - 36, rounded down
        ("2026-12-01", "2026-12-04", "2026-12-02", 0, 33),
        ("2026-12-04", "2026-12-04", "2026-12-04", 10, 90),
        ("2026-12-04", "2026-12-04", "2026-12-03", 10, -10),
        ("2026-12-01", "2026-12-04", "2026-11-20", 0, 0),
    ],
)
def test_how_many_points_behind(start, due, today, progress, points):
    assert (
        rules.behind_points(start=d(start), due=d(due), today=d(today), progress=progress) == points
    )


@pytest.mark.parametrize(
    ("created", "last", "due", "today", "stale", "horizon", "expected"),
    [
        # 14 days without a report, due within 30 days
        ("2026-10-01", "2026-11-23", "2026-12-20", "2026-12-07", 14, 30, True),
        ("2026-10-01", "2026-11-24", "2026-12-20", "2026-12-07", 14, 30, False),  # 13 days
        ("2026-10-01", "2026-11-23", "2027-01-06", "2026-12-07", 14, 30, True),  # 30 days away
        ("2026-10-01", "2026-11-23", "2027-01-07", "2026-12-07", 14, 30, False),  # 31 days away
        # never reported: counted from the day the node was created
        ("2026-11-23", None, "2026-12-20", "2026-12-07", 14, 30, True),
        ("2026-11-24", None, "2026-12-20", "2026-12-07", 14, 30, False),
        # a report today, or on the due day itself
        ("2026-10-01", "2026-12-07", "2026-12-07", "2026-12-07", 14, 30, False),
        ("2026-10-01", "2026-11-01", "2026-12-07", "2026-12-07", 14, 30, True),
        # other thresholds
        ("2026-10-01", "2026-12-02", "2026-12-20", "2026-12-07", 5, 30, True),
        ("2026-10-01", "2026-11-01", "2027-02-01", "2026-12-07", 14, 60, True),
        ("2026-10-01", "2026-11-01", "2027-02-01", "2026-12-07", 14, 30, False),
    ],
)
def test_silent_too_long(created, last, due, today, stale, horizon, expected):
    assert (
        rules.silent_too_long(
            created_on=d(created),
            due=d(due),
            today=d(today),
            last_report_on=d(last) if last else None,
            stale_days=stale,
            horizon_days=horizon,
        )
        is expected
    )


@pytest.mark.parametrize(
    ("start", "created", "due", "today", "progress", "last", "expected"),
    [
        # on pace and reporting
        ("2026-11-01", "2026-10-01", "2026-12-31", "2026-12-07", 60, "2026-12-01", False),
        # behind: 36 of 60 days (60%) at 20%
        ("2026-11-01", "2026-10-01", "2026-12-31", "2026-12-07", 20, "2026-12-01", True),
        # on pace but silent 15 days, due in 24
        ("2026-11-01", "2026-10-01", "2026-12-31", "2026-12-07", 60, "2026-11-22", True),
        # silent but due in 54 days: not yet
        ("2026-11-01", "2026-10-01", "2027-01-30", "2026-12-07", 60, "2026-11-01", False),
        # the due day itself: still warned
        ("2026-11-01", "2026-10-01", "2026-12-07", "2026-12-07", 50, "2026-12-06", True),
        # past due: the cards speak, not the warning
        ("2026-11-01", "2026-10-01", "2026-12-06", "2026-12-07", 0, None, False),
        # not started yet (its start is after today), never reported, created long ago,
        # due in 20 days: silent
        ("2026-12-10", "2026-10-01", "2026-12-27", "2026-12-07", 0, None, True),
        # not started yet, created 3 days ago: nothing to say
        ("2026-12-10", "2026-12-04", "2026-12-27", "2026-12-07", 0, None, False),
    ],
)
def test_node_lagging(start, created, due, today, progress, last, expected):
    assert (
        rules.node_lagging(
            start=d(start),
            created_on=d(created),
            due=d(due),
            today=d(today),
            progress=progress,
            last_report_on=d(last) if last else None,
            policy=POLICY,
        )
        is expected
    )


@pytest.mark.parametrize(
    ("completed", "card", "pending", "lagging", "due", "expected"),
    [
        (True, "red", True, True, "2026-12-08", Light.DONE),
        (False, "red", True, True, "2026-12-08", Light.RED),
        (False, "yellow", True, True, "2026-12-08", Light.AWAITING_APPROVAL),
        (False, "yellow", False, True, "2026-12-08", Light.YELLOW),
        (False, None, False, True, "2026-12-08", Light.LAGGING),  # lagging before due soon
        (False, None, False, True, "2027-03-01", Light.LAGGING),
        (False, None, False, False, "2026-12-10", Light.DUE_SOON),
        (False, None, False, False, "2026-12-11", Light.ON_TRACK),
        (True, None, False, False, "2027-03-01", Light.DONE),
    ],
)
def test_the_light_first_that_applies(completed, card, pending, lagging, due, expected):
    assert (
        rules.node_light(
            completed=completed,
            card_kind=card,
            pending_recommitment=pending,
            effective_due_date=d(due),
            today=TODAY,
            lagging=lagging,
        )
        is expected
    )


# ---- the database's version ----------------------------------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _local(day: dt.date, hour: int = 0, minute: int = 30) -> dt.datetime:
    """Half past midnight local time: the day before in UTC, so a date taken in UTC is wrong."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


def _node_case(
    locality, unit, author, *, start_kind, start_off, due_off, committed_off, progress,
    created_off, report_off, completed,
):  # fmt: skip
    """One node whose early-warning facts are set exactly; returns it and its expected start."""
    start = TODAY + dt.timedelta(days=start_off)
    created_on = TODAY + dt.timedelta(days=created_off)
    project = ProjectFactory(
        locality=locality, start_date=start if start_kind == "project" else None
    )
    seq = 1
    if start_kind == "previous":
        NodeFactory(project=project, seq=1, unit=unit, due_date=start)
        # an archived node in between is no longer part of the plan
        NodeFactory(
            project=project,
            seq=2,
            unit=unit,
            due_date=start + dt.timedelta(days=5),
            archived_at=NOW,
        )
        seq = 3
    node = NodeFactory(
        project=project,
        seq=seq,
        unit=unit,
        due_date=TODAY + dt.timedelta(days=due_off),
        committed_due_date=(
            TODAY + dt.timedelta(days=committed_off) if committed_off is not None else None
        ),
        progress=progress,
        completed_at=_local(TODAY, 8) if completed else None,
    )
    Node.objects.filter(pk=node.pk).update(created_at=_local(created_on))
    last = None
    if report_off is not None:
        for back in (report_off + 20, report_off):  # the latest one counts
            last = TODAY - dt.timedelta(days=back)
            report = ProgressReport.objects.create(node=node, percent=progress, author=author)
            ProgressReport.objects.filter(pk=report.pk).update(created_at=_local(last))
    node.refresh_from_db()
    expected_start = start if start_kind != "created" else created_on
    return node, expected_start, created_on, last


CASES = list(
    itertools.product(
        [("previous", -60), ("previous", 5), ("project", -20), ("created", -40), ("created", 0)],
        [-1, 0, 2, 14, 30, 31],  # due
        [0, 35, 71],  # progress
        [None, 13, 14],  # days since the last report
    )
)


def _build(policy_created=-30):
    locality, unit = LocalityFactory(name="桃花镇"), UnitFactory(name="县自然资源和规划局")
    author = make_user("staff", unit)
    built = []
    for i, ((kind, start_off), due_off, progress, report_off) in enumerate(CASES):
        committed_off = 20 if i % 4 == 0 else None  # an approved date rules over the plan
        created_off = start_off if kind == "created" else policy_created - (i % 3) * 7
        built.append(
            _node_case(
                locality,
                unit,
                author,
                start_kind=kind,
                start_off=start_off,
                due_off=due_off,
                committed_off=committed_off,
                progress=progress,
                created_off=created_off,
                report_off=report_off,
                completed=i % 17 == 0,
            )
        )
    return built


def _assert_equal(built, policy):
    nodes = {n.pk: n for n in nodes_with_lag_facts(Node.objects.all(), today=TODAY)}
    lights = set()
    lagging = 0
    for node, start, created_on, last in built:
        got = nodes[node.pk]
        assert (got.lag_start_on, got.created_on, got.last_report_day) == (start, created_on, last)
        expected = node.completed_at is None and rules.node_lagging(
            start=start,
            created_on=created_on,
            due=node.effective_due_date,
            today=TODAY,
            progress=node.progress,
            last_report_on=last,
            policy=policy,
        )
        assert got.lagging is expected, (node.due_date, node.committed_due_date, start, last)
        assert got.light == light_of(got, today=TODAY).value
        lights.add(got.light)
        lagging += expected
    return lights, lagging


@pytest.mark.django_db
def test_the_database_decides_lagging_as_the_rule_does(frozen):
    built = _build()
    lights, lagging = _assert_equal(built, POLICY)
    assert lights == {"done", "lagging", "due_soon", "on_track"}
    assert 40 < lagging < len(CASES) - 40  # both outcomes, many times


@pytest.mark.django_db
def test_the_database_reads_the_thresholds_in_force_today(frozen):
    built = _build()
    RuleVersion.objects.all().delete()  # the rule the migrations enter
    RuleVersion.objects.create(
        effective_from=d("2026-01-01"), lag_points=50, stale_days=30, stale_horizon_days=10
    )
    stricter = RuleVersion.objects.create(
        effective_from=d("2026-12-01"), lag_points=10, stale_days=5, stale_horizon_days=60
    )
    RuleVersion.objects.create(  # not yet in force
        effective_from=d("2026-12-08"), lag_points=100, stale_days=90, stale_horizon_days=1
    )
    policy = Policy(
        version_id=stricter.pk,
        effective_from=stricter.effective_from,
        lag_points=10,
        stale_days=5,
        stale_horizon_days=60,
    )
    _, lagging = _assert_equal(built, policy)
    assert lagging > 100


@pytest.mark.django_db
def test_before_the_first_rule_the_first_applies(frozen):
    built = _build()
    RuleVersion.objects.all().delete()  # the rule the migrations enter
    first = RuleVersion.objects.create(
        effective_from=d("2027-01-01"), lag_points=100, stale_days=90, stale_horizon_days=1
    )
    policy = Policy(
        version_id=first.pk,
        effective_from=first.effective_from,
        lag_points=100,
        stale_days=90,
        stale_horizon_days=1,
    )
    _, lagging = _assert_equal(built, policy)
    assert lagging == 0


@pytest.mark.django_db
def test_no_rule_at_all_means_the_defaults(frozen):
    built = _build()
    RuleVersion.objects.all().delete()
    _assert_equal(built, POLICY)


@pytest.mark.django_db
def test_light_filter_finds_the_lagging_nodes(frozen):
    built = _build()
    lagging = {
        n.pk for n in nodes_with_light(Node.objects.all(), today=TODAY).filter(light="lagging")
    }
    assert lagging == {
        n.pk for n in nodes_with_lag_facts(Node.objects.all(), today=TODAY) if n.lagging
    } - {n.pk for n, *_ in built if n.completed_at is not None}
    assert len(lagging) > 40


# ---- the pages -----------------------------------------------------------------------------


@pytest.fixture
def lagging_world(frozen):
    """A township's node 58 points behind its time share, and one on pace, in one project."""
    from organization.models import Coverage

    town = LocalityFactory(name="桃花镇")
    project = ProjectFactory(
        code="FXDX-001",
        name="宏远机械低效用地收储收回项目",
        locality=town,
        start_date=d("2026-10-01"),
    )
    behind = NodeFactory(
        project=project,
        seq=1,
        name="签订收回协议",
        unit=town,
        due_date=d("2026-12-31"),
        progress=10,
    )
    NodeFactory(project=project, seq=2, name="完成土地收储", unit=town, due_date=d("2027-06-30"))
    leader = make_user("leader", UnitFactory(name="县政府办"), username="lingdao")
    Coverage.objects.create(leader=leader, target="locality", locality=town)
    return {
        "node": behind,
        "project": project,
        "staff": make_user("staff", town, username="xiaowang"),
        "leader": leader,
        "office": make_user("supervisor", username="office"),
    }


LAGGING_HTML = 'class="light light-lagging" title="进度滞后"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "page", "args", "times"),
    [
        ("staff", "todo", (), 1),
        ("staff", "weekly", (), 1),
        ("staff", "node", ("node",), 1),
        ("office", "project", ("code",), 1),
        # the leader's counts (all, the township's, the project's) and the node's own line
        ("leader", "coverage", (), 4),
    ],
)
def test_every_page_with_lights_shows_lagging_in_words(
    client, lagging_world, who, page, args, times
):
    from django.urls import reverse

    # given
    client.force_login(lagging_world[who])
    values = {"node": lagging_world["node"].pk, "code": lagging_world["project"].code}
    # when
    response = client.get(reverse(page, args=[values[a] for a in args]))
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count(LAGGING_HTML) == times
    assert "进度滞后</span>" in body
    if page == "coverage":  # the project's nodes open, as for a card: a leader looks first
        assert '<details class="coverage-nodes" open>' in body


@pytest.mark.django_db
@pytest.mark.parametrize(("light", "codes"), [("lagging", ["FXDX-001"]), ("due_soon", [])])
def test_the_project_list_filters_by_the_lagging_light(client, lagging_world, light, codes):
    from django.urls import reverse

    # given
    client.force_login(lagging_world["office"])
    # when
    response = client.get(reverse("projects"), {"light": light})
    # then
    assert [p.code for p in response.context["projects"]] == codes
    assert '<option value="lagging"' in response.content.decode()
