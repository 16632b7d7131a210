"""The live dashboard counts in the database: one row per light, unit and locality, per card
kind, week, unit and locality, per item age band, unit and locality. These tests hold the
edges that moving the counting into SQL could shift: the county's local time (UTC+8) for the
week a card falls in, the year it belongs to and the whole days an item has been open, and
the grouping itself (alike nodes, scoped users), on SQLite and PostgreSQL alike.

The world is tests/test_pages_matrix.py's (see tests/test_dashboard.py): on Monday
2026-11-30 five yellow cards, two red ones each with an open supervision item.
"""

import datetime as dt
from collections import Counter

import pytest
import time_machine

from organization.models import User
from reports.selectors.dashboard import dashboard, node_list_with_light
from supervision.choices import CardKind
from supervision.models import Card, SupervisionItem
from tests.test_dashboard import grow
from tests.test_pages_matrix import NOW, World, at, world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> World:
    return world_build()


@pytest.fixture
def frozen(w):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_a_card_is_dated_and_weeked_by_the_countys_clock(w, frozen):
    # given: breach instants near local midnights, where UTC is still the day before
    yellows = list(Card.objects.filter(kind=CardKind.YELLOW).order_by("pk"))
    reds = list(Card.objects.filter(kind=CardKind.RED).order_by("pk"))
    moves = {
        yellows[0].pk: at("2025-12-31 23:30"),  # last year: not counted
        yellows[1].pk: at("2026-01-01 00:30"),  # this year, the week of Monday 2025-12-29
        yellows[2].pk: at("2026-11-29 23:30"),  # Sunday: the week of 11-23
        yellows[3].pk: at("2026-11-30 00:30"),  # Monday (UTC: Sunday): the week of 11-30
        yellows[4].pk: at("2026-11-30 23:59"),  # later today: still today's
        reds[0].pk: at("2026-12-01 00:00"),  # after today: not counted
    }
    for pk, instant in moves.items():
        Card.objects.filter(pk=pk).update(breached_at=instant)
    # when
    figures = dashboard(user=w.users["office"])
    # then
    assert (figures.yellow, figures.red) == (4, 1)
    assert {
        week.start.isoformat(): (week.yellow, week.red) for week in figures.weeks if week.total
    } == {
        "2025-12-29": (1, 0),
        "2026-11-16": (0, 1),
        "2026-11-23": (1, 0),
        "2026-11-30": (2, 0),
    }
    assert figures.this_week.total == 2
    counted = [*yellows[1:], reds[1]]
    assert {row.name: (row.yellow, row.red) for row in figures.by_unit} == {
        unit.name: (
            sum(1 for c in counted if c.unit_id == unit.pk and c.kind == CardKind.YELLOW),
            sum(1 for c in counted if c.unit_id == unit.pk and c.kind == CardKind.RED),
        )
        for unit in (w.land, w.housing)
    }


def test_an_items_age_is_counted_in_whole_local_days_at_each_band_edge(w, frozen):
    # given: the two open items and five more, opened at the edges of the bands (today 11-30)
    items = list(SupervisionItem.objects.order_by("pk"))
    for card in Card.objects.filter(kind=CardKind.YELLOW).order_by("pk"):
        items.append(
            SupervisionItem.objects.create(
                card=card, node=card.node, unit=card.unit, opened_at=at("2026-11-01 09:00")
            )
        )
    opened = [
        at("2026-11-30 00:00"),  # 0 days
        at("2026-11-23 00:00"),  # 7 days
        at("2026-11-22 23:59"),  # 8 days
        at("2026-10-31 23:59"),  # 30 days
        at("2026-10-31 00:00"),  # 30 days
        at("2026-09-01 00:00"),  # 90 days
        at("2026-08-31 23:59"),  # 91 days
    ]
    for item, instant in zip(items, opened, strict=True):
        SupervisionItem.objects.filter(pk=item.pk).update(opened_at=instant)
    days = {item.pk: d for item, d in zip(items, [0, 7, 8, 30, 30, 90, 91], strict=True)}
    # when
    figures = dashboard(user=w.users["office"])
    # then
    assert (figures.items_open, figures.items_oldest_days) == (7, 91)
    assert [age.count for age in figures.item_ages] == [2, 3, 1, 1]
    assert {row.name: (row.items_open, row.oldest_days) for row in figures.by_unit} == {
        unit.name: (
            sum(1 for item in items if item.unit_id == unit.pk),
            max(days[item.pk] for item in items if item.unit_id == unit.pk),
        )
        for unit in (w.land, w.housing)
    }
    assert [(row.items_open, row.oldest_days) for row in figures.by_locality] == [(7, 91)]


@pytest.mark.parametrize(
    "role", ["office", "principal", "leader", "leader_other", "staff", "staff_other"]
)
def test_the_grouped_counts_equal_the_node_by_node_ones_for_every_scope(w, frozen, role):
    user = w.users[role]
    # when
    figures = dashboard(user=user)
    # then: the node list (what the counts link to) gives each node's light, counted here
    nodes = node_list_with_light(user=user).select_related(None)
    by_unit = Counter((node.unit.name, node.light) for node in nodes)
    by_locality = Counter((node.project.locality.name, node.light) for node in nodes)
    assert figures.nodes == len(nodes) > 0
    assert {
        (row.name, light): n for row in figures.by_unit for light, n in row.lights.items() if n
    } == dict(by_unit)
    assert {
        (row.name, light): n for row in figures.by_locality for light, n in row.lights.items() if n
    } == dict(by_locality)
    # and the cards and items are each counted once, whatever the shape of the scope
    cards = Card.objects.visible_to(user).filter(revoked_at__isnull=True)
    assert (figures.yellow, figures.red) == (
        cards.filter(kind=CardKind.YELLOW).count(),
        cards.filter(kind=CardKind.RED).count(),
    )
    if figures.sees_items:
        items = SupervisionItem.objects.visible_to(user).filter(closed_at__isnull=True)
        assert figures.items_open == items.count() == sum(r.items_open for r in figures.by_unit)


# The live dashboard's reads: the user (here), their scope, then the lights, the cards, the
# items and the disposal table. A past day: the user, their scope, the nodes' history, the
# cards in force, the pending recommitments, the last progress reports, the rule versions,
# then the cards, the items and the disposal table. Unit staff read no items.
SELECTOR_PIN = 6
SELECTOR_AS_OF_PIN = 10


@pytest.mark.parametrize("extra", [0, 12])
def test_the_selector_costs_a_fixed_number_of_queries(w, django_assert_max_num_queries, extra):
    grow(w, extra)
    with time_machine.travel(NOW, tick=False):
        for role in ("office", "leader_other", "staff"):
            with django_assert_max_num_queries(SELECTOR_PIN):
                figures = dashboard(user=User.objects.get(pk=w.users[role].pk))
            with django_assert_max_num_queries(SELECTOR_AS_OF_PIN):
                then = dashboard(
                    user=User.objects.get(pk=w.users[role].pk), as_of=dt.date(2026, 11, 20)
                )
            if role == "office":
                assert (figures.nodes, figures.red, figures.items_open) == (
                    8 + 2 * extra,
                    2 + extra,
                    2 + extra,
                )
                assert then.red == 2 + extra
