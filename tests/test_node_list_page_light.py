"""The node list works out its page's lights in Python (supervision.selectors.nodes_light_decorate)
and must give exactly the light the database's expression gives (nodes_with_light) for every
node: over the demo at several dates, with cards, revocations, recommitments, rule versions
and the early warning's edge cases; with a fixed number of queries whatever the page holds."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from core import clock
from organization.models import User
from organization.tokens import api_token_create
from projects.models import Node
from scoring.models import RuleVersion
from supervision.choices import RecommitmentStatus
from supervision.models import Card
from supervision.selectors import nodes_light_decorate, nodes_with_light
from tests.factories import NodeFactory
from tests.test_api_support import api_get, card_make, card_mark_revoked, recommitment_make
from tests.test_early_warning import _build

pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

SH = ZoneInfo("Asia/Shanghai")
DEMO_DAY = dt.date(2026, 11, 2)


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SH)


def _lights_compared(today: dt.date) -> dict[str, int]:
    """Every node's light both ways on `today`; how many nodes have each light."""
    in_sql = {
        n.pk: (n.light, n.card_kind, n.has_pending, n.lagging)
        for n in nodes_with_light(Node.objects.all(), today=today)
    }
    rows = list(Node.objects.select_related("project").order_by("pk"))
    nodes_light_decorate(rows, today=today)
    in_python = {n.pk: (n.light, n.card_kind, n.has_pending, n.lagging) for n in rows}
    assert in_python == in_sql
    counts: dict[str, int] = {}
    for light, *_ in in_sql.values():
        counts[light] = counts.get(light, 0) + 1
    return counts


def _demo_with_cards() -> None:
    """The demo, loaded on DEMO_DAY, with cards and recommitments on some of its open nodes, a
    node archived in the middle of a project, and a stricter rule version from a later date."""
    with time_machine.travel(_at(DEMO_DAY), tick=False):
        call_command("load_demo", stdout=StringIO())
        someone = User.objects.get(username="principal")
        open_nodes = list(Node.objects.filter(completed_at__isnull=True).order_by("pk"))
        assert len(open_nodes) > 40
        for i, node in enumerate(open_nodes[:40]):
            if i % 5 == 0:
                card_make(node, "yellow")
            if i % 5 == 1:
                card_make(node, "yellow")
                card_make(node, "red")
            if i % 5 == 2:
                card_mark_revoked(card_make(node, "yellow"))
            if i % 4 == 0:
                recommitment_make(node, someone, submitted_at=_at(DEMO_DAY))
            if i % 4 == 1:
                recommitment_make(
                    node,
                    someone,
                    submitted_at=_at(DEMO_DAY),
                    status=RecommitmentStatus.REJECTED,
                    decided_by=someone,
                    decided_at=_at(DEMO_DAY, 10),
                    comment="理由不充分",
                )
        middle = Node.objects.filter(seq=2, completed_at__isnull=True).first()
        Node.objects.filter(pk=middle.pk).update(archived_at=_at(DEMO_DAY))
        RuleVersion.objects.create(
            effective_from=DEMO_DAY + dt.timedelta(days=10),
            lag_points=10,
            stale_days=5,
            stale_horizon_days=60,
        )


@pytest.mark.django_db
def test_the_page_light_is_the_database_light_over_the_demo_at_several_dates():
    _demo_with_cards()
    seen: set[str] = set()
    for days in (-30, 0, 3, 11, 25, 60, 200):
        today = DEMO_DAY + dt.timedelta(days=days)
        with time_machine.travel(_at(today), tick=False):
            seen |= set(_lights_compared(today))
    assert seen == {
        "done",
        "red",
        "awaiting_approval",
        "yellow",
        "lagging",
        "due_soon",
        "on_track",
    }


@pytest.mark.django_db
def test_the_page_light_is_the_database_light_on_the_early_warning_edge_cases():
    today = dt.date(2026, 12, 7)
    with time_machine.travel(_at(today), tick=False):
        _build()
        counts = _lights_compared(today)
        RuleVersion.objects.all().delete()  # no rule at all: the defaults
        assert _lights_compared(today) == counts
        RuleVersion.objects.create(  # only a future one: before the first, the first
            effective_from=dt.date(2027, 1, 1), lag_points=5, stale_days=2, stale_horizon_days=90
        )
        assert _lights_compared(today) != counts
    assert counts["lagging"] > 40


@pytest.mark.django_db
def test_rows_carrying_their_light_are_left_alone(django_assert_num_queries):
    NodeFactory()
    rows = list(nodes_with_light(Node.objects.all(), today=dt.date(2026, 12, 7)))
    with django_assert_num_queries(0):
        nodes_light_decorate(rows)
        nodes_light_decorate([])


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(
    ("params", "pin", "rows"),
    [
        # token, roles, count, page, the page's facts (with the rule in force)
        ({}, 5, lambda size: size + 1),
        ({"count": "false"}, 4, lambda size: size + 1),
        # filtered by light or card: the light is worked out in the page's query
        ({"light": "yellow"}, 4, lambda size: size - len(range(3, 2 + size, 3))),
        ({"card": "yellow"}, 4, lambda size: size),
    ],
)
@pytest.mark.usefixtures("frozen")
def test_node_list_queries_are_fixed(
    client, world, django_assert_num_queries, size, params, pin, rows
):
    # given: yellow-carded nodes of the staff's unit, some with a report and a recommitment
    for seq in range(2, 2 + size):
        node = NodeFactory(project=world.project, seq=seq, unit=world.unit)
        card_make(node, "yellow")
        if seq % 3 == 0:
            recommitment_make(node, world.users["staff"])
    token = world.token("staff")
    # when / then
    api_get(client, "nodes/", token, limit=50, **params)
    with django_assert_num_queries(pin):
        first = api_get(client, "nodes/", token, limit=50, **params)
    assert len(first.json()["results"]) == rows(size)


@pytest.mark.usefixtures("frozen")
def test_every_page_of_the_list_has_the_database_lights(client, world):
    # given: cards, a pending recommitment, nodes due soon and later
    for seq in range(2, 14):
        node = NodeFactory(
            project=world.project,
            seq=seq,
            unit=world.unit,
            due_date=dt.date(2026, 12, 1) + dt.timedelta(days=seq * 3),
        )
        if seq % 4 == 0:
            card_make(node, "yellow")
        if seq % 5 == 0:
            recommitment_make(node, world.users["staff"])
    token = api_token_create(user=world.users["supervisor"])
    expected = {n.pk: n.light for n in nodes_with_light(Node.objects.all(), today=clock.today())}
    # when: walked page after page by cursor
    got, cursor = {}, None
    while True:
        answer = api_get(client, "nodes/", token, limit=5, **({"cursor": cursor} if cursor else {}))
        got |= {row["id"]: row["light"] for row in answer.json()["results"]}
        cursor = answer.json()["next"]
        if cursor is None:
            break
    # then
    assert got == expected
    assert len(set(got.values())) >= 3


# ---------------------------------------------------------------- the page (reports)


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.usefixtures("frozen")
def test_the_node_list_page_shows_the_database_lights(
    client, world, django_assert_max_num_queries, size
):
    # given: carded nodes, some with a pending recommitment, some due soon
    for seq in range(2, 2 + size):
        node = NodeFactory(
            project=world.project,
            seq=seq,
            unit=world.unit,
            due_date=clock.today() + dt.timedelta(days=seq),
        )
        if seq % 3 == 0:
            card_make(node, "yellow")
        if seq % 4 == 0:
            recommitment_make(node, world.users["staff"])
    client.force_login(world.users["supervisor"])
    expected = {n.pk: n.light for n in nodes_with_light(Node.objects.all(), today=clock.today())}
    client.get(reverse("node-list"))
    # when: unfiltered (lights for the page's rows), and filtered by card (in the database)
    # session, user, scope, the filters' choices, count, page, the page's facts, the page's
    # context: the same at both sizes
    with django_assert_max_num_queries(11):
        page = client.get(reverse("node-list"))
    filtered = client.get(reverse("node-list") + "?card=yellow")
    # then
    rows = page.context["page"].object_list
    assert {n.pk: n.light for n in rows} == {pk: expected[pk] for pk in (n.pk for n in rows)}
    assert len(rows) == min(size + 2, 50)
    assert {n.light for n in filtered.context["page"].object_list} <= {
        "yellow",
        "awaiting_approval",
    }
    assert [n.pk for n in filtered.context["page"].object_list] == sorted(
        n.node_id for n in Card.objects.all()
    )
