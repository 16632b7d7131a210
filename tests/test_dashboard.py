"""The dashboard (总览), its "as of" reconstruction, the node list and the two stats endpoints.

The world is the pages' matrix world (tests/test_pages_matrix.py): on Monday 2026-11-30 the
land department (县自然资源局) has five nodes of FX-001 (done, red, yellow, awaiting approval,
lagging) and the housing department (县住建局) three of FX-002 (red, awaiting, lagging),
all in 桃花镇. Yellow cards were dated 11-11 (two) and 11-27 (three), red cards 11-17 (two),
each red card opening a supervision item. The two open nodes (a_open and b_open, due 12-20)
lag: their last progress report was on 11-04, 26 days ago, and they are due within 30 days
(rules.node_lagging, the default rule: 14 days without a report).
"""

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from organization.choices import CoverageTarget
from organization.models import Coverage, User
from organization.tokens import api_token_create
from projects.models import Node, Project, WorkStream
from projects.services import node_progress_report
from reports.selectors.dashboard import dashboard, disposal_table
from scoring.models import RuleVersion
from supervision.choices import Light
from supervision.models import Card, Recommitment
from supervision.services import (
    card_revoke,
    node_archive,
    node_change_due_date,
    node_complete,
    project_archive,
    recommitment_decide,
    supervision_item_close,
    sweep_run,
)
from tests.factories import (
    DisposalLineFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    make_user,
)
from tests.test_pages_matrix import NOW, World, at, state, world_build

pytestmark = pytest.mark.django_db

LIGHTS = [light.value for light in Light]


def lights(**counts) -> dict[str, int]:
    """Every light, 0 unless given."""
    return {light: counts.get(light, 0) for light in LIGHTS}


@pytest.fixture
def w() -> World:
    return world_build()


@pytest.fixture
def frozen(w):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def api(user: User, path: str):
    token = api_token_create(user=user)
    return Client().get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {token}")


def figures_of(response) -> dict:
    """The API's overview without the week rows (checked apart)."""
    data = response.json()
    data["cards"] = {k: v for k, v in data["cards"].items() if k != "weeks"}
    return data


def breakdown(name, nodes_lights, yellow, red, items, oldest, id_):
    return {
        "id": id_,
        "name": name,
        "nodes": sum(nodes_lights.values()),
        "lights": nodes_lights,
        "yellow": yellow,
        "red": red,
        "items_open": items,
        "oldest_days": oldest,
    }


# -- today -----------------------------------------------------------------------------------


def test_the_office_reads_the_whole_county_today(w, frozen):
    # when
    response = api(w.users["principal"], "stats/overview/")
    # then
    assert response.status_code == 200
    data = figures_of(response)
    taohua = Project.objects.get(code="FX-001").locality
    county = lights(done=1, red=2, awaiting_approval=2, yellow=1, lagging=2)
    assert data == {
        "as_of": "2026-11-30",
        "work_stream": None,
        "nodes": 8,
        "lights": [
            {"light": light.value, "label": str(light.label), "count": county[light.value]}
            for light in Light
        ],
        "cards": {"year": 2026, "yellow": 5, "red": 2, "total": 7, "this_week": 0},
        "items": {
            "open": 2,
            "oldest_days": 13,
            "ages": [
                {"label": "7天以内", "min_days": 0, "max_days": 7, "count": 0},
                {"label": "8至30天", "min_days": 8, "max_days": 30, "count": 2},
                {"label": "31至90天", "min_days": 31, "max_days": 90, "count": 0},
                {"label": "超过90天", "min_days": 91, "max_days": None, "count": 0},
            ],
        },
        "by_locality": [breakdown("桃花镇", county, 5, 2, 2, 13, taohua.pk)],
        "by_unit": [
            breakdown(
                "县住建局",
                lights(red=1, awaiting_approval=1, lagging=1),
                2,
                1,
                1,
                13,
                w.housing.pk,
            ),
            breakdown(
                "县自然资源局",
                lights(done=1, red=1, awaiting_approval=1, yellow=1, lagging=1),
                3,
                1,
                1,
                13,
                w.land.pk,
            ),
        ],
    }


def test_cards_are_counted_week_by_week_from_the_first_monday_of_the_year(w, frozen):
    # when
    weeks = api(w.users["office"], "stats/overview/").json()["cards"]["weeks"]
    # then: 2025-12-29 is the Monday of the week of 2026-01-01; 2026-11-30 the last Monday
    assert (weeks[0]["week_start"], weeks[-1]["week_start"], len(weeks)) == (
        "2025-12-29",
        "2026-11-30",
        49,
    )
    assert {
        row["week_start"]: (row["yellow"], row["red"])
        for row in weeks
        if row["yellow"] or row["red"]
    } == {
        "2026-11-09": (2, 0),
        "2026-11-16": (0, 2),
        "2026-11-23": (3, 0),
    }


def test_every_light_is_listed_lagging_included(w, frozen):
    figures = dashboard(user=w.users["office"])
    assert [row.light for row in figures.lights] == list(Light)
    # a_open and b_open: no progress report for 26 days, due within 30
    assert {row.light.value: row.count for row in figures.lights}["lagging"] == 2


def test_the_world_disposal_table_counts_each_method_and_distinct_projects(w, frozen):
    # when
    response = api(w.users["office"], "stats/disposal-methods/")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "methods": [
            {"method": "takeback", "projects": 1, "area_mu": "10.00"},
            {"method": "grafting", "projects": 1, "area_mu": "10.00"},
            {"method": "self_upgrade", "projects": 0, "area_mu": "0.00"},
        ],
        "total": {"projects": 2, "area_mu": "20.00"},
    }


# -- scope -----------------------------------------------------------------------------------


def test_staff_see_only_their_units_figures(w, frozen):
    # when
    data = figures_of(api(w.users["staff"], "stats/overview/"))
    table = api(w.users["staff"], "stats/disposal-methods/").json()
    # then
    land = lights(done=1, red=1, awaiting_approval=1, yellow=1, lagging=1)
    assert data["nodes"] == 5
    assert [row["name"] for row in data["by_unit"]] == ["县自然资源局"]
    assert data["by_unit"][0]["lights"] == land
    assert (data["cards"]["yellow"], data["cards"]["red"], data["items"]) == (3, 1, None)
    assert table["total"] == {"projects": 1, "area_mu": "10.00"}
    assert table["methods"][1] == {"method": "grafting", "projects": 0, "area_mu": "0.00"}


def test_a_leader_sees_the_units_in_charge(w, frozen):
    # when
    data = figures_of(api(w.users["leader_other"], "stats/overview/"))
    # then
    assert data["nodes"] == 3
    assert [row["name"] for row in data["by_unit"]] == ["县住建局"]
    assert data["by_locality"][0]["lights"] == lights(red=1, awaiting_approval=1, lagging=1)
    assert (data["cards"]["yellow"], data["cards"]["red"], data["items"]["open"]) == (2, 1, 1)


def test_staff_get_no_supervision_item_figures_as_the_item_list_refuses_them(w, frozen):
    # given
    staff = w.users["staff"]
    client = Client()
    client.force_login(staff)
    for as_of in ("", "2026-11-20"):
        # when
        data = api(staff, f"stats/overview/?as_of={as_of}").json()
        page = client.get(reverse("home") + f"?as_of={as_of}")
        # then: no item count anywhere, the rows' item fields null
        assert data["items"] is None, as_of
        assert [
            (row["name"], row["items_open"], row["oldest_days"])
            for row in data["by_locality"] + data["by_unit"]
        ] == [("桃花镇", None, None), ("县自然资源局", None, None)]
        body = page.content.decode()
        assert page.status_code == 200
        assert 'id="items"' not in body and 'id="chart-ages"' not in body
        assert "督办中" not in body and "最久(天)" not in body
        assert "ages" not in page.context["charts"]
        figures = page.context["figures"]
        assert (figures.sees_items, figures.items_open, figures.item_ages) == (False, None, None)
    # and the item list refuses them the same
    assert api(staff, "supervision-items/").status_code == 403


def test_the_schema_says_the_item_figures_may_be_null():
    # when
    schemas = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    # then
    overview, row = schemas["OverviewOut"], schemas["BreakdownOut"]
    assert overview["properties"]["items"]["anyOf"] == [
        {"$ref": "#/components/schemas/ItemsOut"},
        {"type": "null"},
    ]
    assert "items" in overview["required"]
    for name in ("items_open", "oldest_days"):
        assert row["properties"][name]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
        assert "null" in row["properties"][name]["description"]


@pytest.mark.parametrize(
    ("role", "items", "rows"),
    [
        ("leader", 1, [("桃花镇", 1, 13), ("县自然资源局", 1, 13)]),
        ("leader_other", 1, [("桃花镇", 1, 13), ("县住建局", 1, 13)]),
        ("office", 2, [("桃花镇", 2, 13), ("县住建局", 1, 13), ("县自然资源局", 1, 13)]),
        ("principal", 2, [("桃花镇", 2, 13), ("县住建局", 1, 13), ("县自然资源局", 1, 13)]),
    ],
)
def test_leaders_and_the_office_keep_the_item_figures(w, frozen, role, items, rows):
    # given
    user = w.users[role]
    client = Client()
    client.force_login(user)
    # when
    data = api(user, "stats/overview/").json()
    page = client.get(reverse("home"))
    # then
    assert (data["items"]["open"], data["items"]["oldest_days"]) == (items, 13)
    assert [a["count"] for a in data["items"]["ages"]] == [0, items, 0, 0]
    assert [
        (row["name"], row["items_open"], row["oldest_days"])
        for row in data["by_locality"] + data["by_unit"]
    ] == rows
    body = page.content.decode()
    assert f'<b data-figure="items">{items}</b>' in body
    assert 'id="chart-ages"' in body
    assert body.count("最久(天)") == 2 + len(rows)  # both tables' headers, each row's label
    assert page.context["charts"]["ages"]["values"] == [0, items, 0, 0]


def test_a_leader_covering_an_enterprise_sees_its_projects_figures(w, frozen):
    # given: a leader in charge of a third department who covers FX-001's enterprise
    cover = make_user("leader", UnitFactory(name="县发展改革委"))
    Coverage.objects.create(
        leader=cover, target=CoverageTarget.ENTERPRISE, enterprise=w.project.enterprise
    )
    # when
    figures = dashboard(user=cover)
    table = disposal_table(user=cover)
    # then
    assert figures.nodes == 5
    assert [row.name for row in figures.by_unit] == ["县自然资源局"]
    assert (table.projects, table.area_mu, table.rows[0].projects) == (1, Decimal("10.00"), 1)


def test_alike_nodes_each_count_for_a_leader_whose_scope_is_distinct(w, frozen):
    """Regression: a leader's scope is a DISTINCT query; two nodes with the same light, unit
    and locality are still two."""
    # given: b_open reported on today, so on track again (not lagging), and a second
    # on-track node of the housing department
    node_progress_report(
        node=w.node("b_open"), actor=w.users["staff_other"], percent=40, note="设备已调试。"
    )
    NodeFactory(project=w.other_project, seq=9, unit=w.housing, due_date=dt.date(2026, 12, 21))
    # when
    figures = dashboard(user=w.users["leader_other"])
    # then
    assert {r.light.value: r.count for r in figures.lights} == lights(
        red=1, awaiting_approval=1, on_track=2
    )
    assert figures.by_unit[0].lights["on_track"] == 2


def test_the_staff_page_shows_their_unit_and_links_the_todo_list_first(w, frozen):
    # given
    client = Client()
    client.force_login(w.users["staff"])
    # when
    response = client.get(reverse("home"))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(f'href="{reverse("todo")}"') < body.index('id="lights"')
    assert "县住建局" not in body
    assert response.context["figures"].nodes == 5


# -- as of a past day --------------------------------------------------------------------------


def test_a_past_day_is_rebuilt_from_the_history(w, frozen):
    # when: 11-20, after the red cards of 11-17, before the yellow cards of 11-27
    data = figures_of(api(w.users["office"], "stats/overview/?as_of=2026-11-20"))
    # then: the five open nodes lag that day. a_yellow and b_pending (due 11-26, their time
    # counted from the previous node's 11-10) have used 10 of 16 days with nothing reported;
    # a_pending (created 11-02) and a_open and b_open (last report 11-04) have gone 16 days
    # or more without a report and are due within 30 days.
    assert data["as_of"] == "2026-11-20"
    assert {row["light"]: row["count"] for row in data["lights"]} == lights(
        done=1, red=2, lagging=5
    )
    assert data["cards"] == {"year": 2026, "yellow": 2, "red": 2, "total": 4, "this_week": 2}
    assert (data["items"]["open"], data["items"]["oldest_days"]) == (2, 3)


def test_the_day_before_the_red_cards_shows_yellow_cards_and_no_item(w, frozen):
    data = figures_of(api(w.users["office"], "stats/overview/?as_of=2026-11-16"))
    # a_yellow and b_pending 6 of 16 days in with nothing done, a_pending 14 days without a
    # report; a_open and b_open reported 12 days before, their time not yet begun (11-26)
    assert {row["light"]: row["count"] for row in data["lights"]} == lights(
        done=1, yellow=2, lagging=3, on_track=2
    )
    assert (data["cards"]["red"], data["items"]["open"]) == (0, 0)


def test_before_a_node_existed_it_is_not_counted(w, frozen):
    data = figures_of(api(w.users["office"], "stats/overview/?as_of=2026-11-01"))
    assert data["nodes"] == 0
    assert data["by_unit"] == []


def test_what_happens_after_a_day_does_not_change_that_days_figures(w, frozen):
    """As of a past day, the dashboard is what stood at the end of that day: a later
    approval, completion, revocation, item closing and due-date change leave it exact."""
    # given
    office, principal = w.users["office"], w.users["principal"]
    before = {
        day: dashboard(user=office, as_of=day)
        for day in (dt.date(2026, 11, 20), dt.date(2026, 11, 29))
    }
    before_table = disposal_table(user=office, as_of=dt.date(2026, 11, 29))
    # when: on 12-01 and 12-02
    frozen.move_to(at("2026-12-01 10:00"))
    recommitment_decide(
        recommitment=Recommitment.objects.get(node=w.node("b_pending")),
        actor=principal,
        approve=True,
        comment="同意。",
    )
    node_complete(node=w.node("a_open"), actor=w.users["staff"], note="已交付。")
    card_revoke(
        card=Card.objects.get(node=w.node("b_red"), kind="red"),
        actor=office,
        reason="节点计划日期录入错误。",
    )
    supervision_item_close(item=w.item, actor=office, note="已整改到位。")
    node_change_due_date(
        node=Node.objects.get(pk=w.node("b_open").pk),
        actor=office,
        due_date=dt.date(2026, 12, 3),
        reason="计划调整。",
    )
    DisposalLineFactory(project=w.project, method="self_upgrade", area_mu=Decimal("5.50"))
    frozen.move_to(at("2026-12-02 10:00"))
    # then
    for day, figures in before.items():
        assert dashboard(user=office, as_of=day) == figures, day
    assert disposal_table(user=office, as_of=dt.date(2026, 11, 29)) == before_table
    # and today's figures did move: b_open, now due 12-03, has used 6 of its 7 days (from
    # b_pending's 11-26) at 30%
    today = dashboard(user=office)
    assert {row.light.value: row.count for row in today.lights} == lights(
        done=2, red=1, awaiting_approval=1, yellow=3, lagging=1
    )
    assert (today.items_open, today.red) == (0, 1)
    assert disposal_table(user=office).rows[2].area_mu == Decimal("5.50")


def test_an_archived_project_is_off_the_dashboard_from_the_day_it_was_archived(w, frozen):
    """Archived projects count nowhere on the dashboard: not their nodes' lights, cards and
    items, nor their disposal lines; as of a day before the archiving they all count."""
    # given: FX-002 (the housing department's nodes, 2 yellow and 1 red card, one item, the
    # grafting line of 10 mu) archived on 11-28
    office = w.users["office"]
    frozen.move_to(at("2026-11-28 10:00"))
    project_archive(project=w.other_project, actor=office, reason="项目终止。")
    frozen.move_to(NOW)

    def counted(figures):
        return (
            figures.nodes,
            figures.yellow,
            figures.red,
            figures.items_open,
            figures.items_oldest_days,
            [(row.name, row.nodes, row.yellow, row.red, row.items_open) for row in figures.by_unit],
            [(row.projects, row.area_mu) for row in figures.disposal.rows],
            (figures.disposal.projects, figures.disposal.area_mu),
        )

    ten, none = Decimal("10.00"), Decimal("0.00")
    # when / then: today, and at the end of the day it was archived, FX-001 alone
    assert counted(dashboard(user=office)) == (
        5,
        3,
        1,
        1,
        13,
        [("县自然资源局", 5, 3, 1, 1)],
        [(1, ten), (0, none), (0, none)],
        (1, ten),
    )
    assert counted(dashboard(user=office, as_of=dt.date(2026, 11, 28))) == (
        5,
        3,
        1,
        1,
        11,
        [("县自然资源局", 5, 3, 1, 1)],
        [(1, ten), (0, none), (0, none)],
        (1, ten),
    )
    # the day before, both projects
    assert counted(dashboard(user=office, as_of=dt.date(2026, 11, 27))) == (
        8,
        5,
        2,
        2,
        10,
        [("县住建局", 3, 2, 1, 1), ("县自然资源局", 5, 3, 1, 1)],
        [(1, ten), (1, ten), (0, none)],
        (2, Decimal("20.00")),
    )
    # and the API says the same
    data = figures_of(api(office, "stats/overview/"))
    assert (data["nodes"], data["cards"]["yellow"], data["cards"]["red"]) == (5, 3, 1)
    assert (data["items"]["open"], [row["name"] for row in data["by_unit"]]) == (
        1,
        ["县自然资源局"],
    )
    assert api(office, "stats/disposal-methods/").json()["total"] == {
        "projects": 1,
        "area_mu": "10.00",
    }
    before = figures_of(api(office, "stats/overview/?as_of=2026-11-27"))
    assert (before["cards"]["yellow"], before["cards"]["red"], before["items"]["open"]) == (
        5,
        2,
        2,
    )


def test_an_archived_nodes_cards_and_items_are_not_counted(w, frozen):
    # given: a_red (its red card and its item; its yellow card of 11-11) archived today
    office = w.users["office"]
    before = dashboard(user=office, as_of=dt.date(2026, 11, 29))
    node_archive(node=w.node("a_red"), actor=office, reason="合并到下一节点。")
    # when
    figures = dashboard(user=office)
    # then
    assert (figures.nodes, figures.yellow, figures.red, figures.items_open) == (7, 4, 1, 1)
    assert [(row.name, row.yellow, row.red, row.items_open) for row in figures.by_unit] == [
        ("县住建局", 2, 1, 1),
        ("县自然资源局", 2, 0, 0),
    ]
    # the day before is as it was
    assert (before.nodes, before.yellow, before.red, before.items_open) == (8, 5, 2, 2)
    assert dashboard(user=office, as_of=dt.date(2026, 11, 29)) == before


def test_the_due_date_held_that_day_decides_the_light_of_that_day(w, frozen):
    """A node moved after the day to a date close to it is not due soon as of that day."""
    # given: b_open (due 12-20) reported 80% on 11-29, so lagging on neither day, and moved
    # on 11-30 to 12-02
    office = w.users["office"]
    frozen.move_to(at("2026-11-29 16:00"))
    node_progress_report(
        node=w.node("b_open"), actor=w.users["staff_other"], percent=80, note="设备已调试。"
    )
    frozen.move_to(NOW)
    node_change_due_date(
        node=Node.objects.get(pk=w.node("b_open").pk),
        actor=office,
        due_date=dt.date(2026, 12, 2),
        reason="计划调整。",
    )
    # when
    past = dashboard(user=office, as_of=dt.date(2026, 11, 29))
    now = dashboard(user=office)
    # then: the housing department's lights, b_open on track then and due soon now (and
    # b_pending yellow-carded on 11-29, awaiting approval since 11-30)
    assert past.by_unit[0].name == now.by_unit[0].name == "县住建局"
    assert past.by_unit[0].lights == lights(red=1, yellow=1, on_track=1)
    assert now.by_unit[0].lights == lights(red=1, awaiting_approval=1, due_soon=1)


def unit_lights(figures, name: str) -> dict[str, int]:
    return next(row.lights for row in figures.by_unit if row.name == name)


def test_nodes_that_lagged_on_a_day_and_were_reported_on_since_lag_as_of_that_day_only(w, frozen):
    # given: two nodes of their own units created 11-02, due 12-10 (38 days); the roads
    # department's reported 10% on 11-10, the water department's 50% on 11-03; both 60% just
    # after midnight on 11-26
    with time_machine.travel(at("2026-11-02 09:00"), tick=False) as traveller:
        nodes = {}
        for code, name in (("JT-009", "县交通运输局"), ("SW-009", "县水务局")):
            unit = UnitFactory(name=name)
            nodes[name] = (
                NodeFactory(
                    project=ProjectFactory(code=code),
                    seq=1,
                    unit=unit,
                    due_date=dt.date(2026, 12, 10),
                ),
                make_user("staff", unit),
            )
        for when, name, percent in (
            ("2026-11-03 10:00", "县水务局", 50),
            ("2026-11-10 11:00", "县交通运输局", 10),
            ("2026-11-26 00:30", "县交通运输局", 60),
            ("2026-11-26 00:30", "县水务局", 60),
        ):
            traveller.move_to(at(when))
            node, staff = nodes[name]
            node_progress_report(node=node, actor=staff, percent=percent, note="进展。")
    office = w.users["office"]
    days = (9, 16, 17, 20, 25, 26)
    # when
    past = {day: dashboard(user=office, as_of=dt.date(2026, 11, day)) for day in days}
    today = dashboard(user=office)
    # then: the roads node, at the 10% it stood at then, lags from the day more than 40% of
    # its time is gone (11-20: 18 of 38 days), until the 60% of 11-26
    assert {day: unit_lights(past[day], "县交通运输局") for day in days} == {
        9: lights(on_track=1),
        16: lights(on_track=1),
        17: lights(on_track=1),
        20: lights(lagging=1),
        25: lights(lagging=1),
        26: lights(on_track=1),
    }
    # the water node, ahead of its time at 50%, lags from its 14th day without a report
    # (11-17) until the report of 11-26
    assert {day: unit_lights(past[day], "县水务局") for day in days} == {
        9: lights(on_track=1),
        16: lights(on_track=1),
        17: lights(lagging=1),
        20: lights(lagging=1),
        25: lights(lagging=1),
        26: lights(on_track=1),
    }
    # and neither lags today
    assert (
        unit_lights(today, "县交通运输局") == unit_lights(today, "县水务局") == lights(on_track=1)
    )


def test_a_day_rebuilt_from_the_history_equals_what_the_dashboard_showed_live_that_day(w, frozen):
    """The lights of a past day, lagging included, are worked out from the history as the
    database works them out live: the start from the previous node of the day (whoever's
    unit it is, archived ones left out), the project's start, the creation day; the
    progress and the last report of the day; the rule in force on that day."""
    # given: the rule in force from 11-20 is stricter (25 points, 10 days), the one from 12-01
    # would let everything pass
    RuleVersion.objects.create(
        effective_from=dt.date(2026, 11, 20), lag_points=25, stale_days=10, stale_horizon_days=30
    )
    RuleVersion.objects.create(
        effective_from=dt.date(2026, 12, 1), lag_points=90, stale_days=90, stale_horizon_days=1
    )
    office, staff = w.users["office"], w.users["staff"]
    units = {name: UnitFactory(name=name) for name in ("一局", "二局", "三局", "四局")}
    with time_machine.travel(at("2026-11-02 09:00"), tick=False) as traveller:
        town = LocalityFactory(name="上派镇")
        # 一局: its time counted from the project's start (10-01), 92% gone at 62%: lagging
        # (from its creation, 85% gone, it would not be)
        started = ProjectFactory(code="YJ-001", locality=town, start_date=dt.date(2026, 10, 1))
        n1 = NodeFactory(project=started, seq=1, unit=units["一局"], due_date=dt.date(2026, 12, 5))
        # 二局's node past due (no sweep: due soon), then the land department's, its time
        # counted from it (11-25): 17% gone at 20%, on track (from its creation, lagging)
        shared = ProjectFactory(code="YJ-002", locality=town)
        NodeFactory(project=shared, seq=1, unit=units["二局"], due_date=dt.date(2026, 11, 25))
        m2 = NodeFactory(project=shared, seq=2, unit=w.land, due_date=dt.date(2026, 12, 25))
        # 三局: done, archived, then one counted from the done one's 11-10: 67% gone at 10%
        # (from the archived one's 11-28, it would not lag)
        third = ProjectFactory(code="YJ-003", locality=town)
        k1 = NodeFactory(project=third, seq=1, unit=units["三局"], due_date=dt.date(2026, 11, 10))
        k2 = NodeFactory(project=third, seq=2, unit=units["三局"], due_date=dt.date(2026, 11, 28))
        k3 = NodeFactory(project=third, seq=3, unit=units["三局"], due_date=dt.date(2026, 12, 10))
        # 四局: 80% reported 11-19, 11 days without a report, due in 15: lagging under the
        # rule in force (10 days), not under the first one (14)
        j1 = NodeFactory(
            project=ProjectFactory(code="YJ-004", locality=town),
            seq=1,
            unit=units["四局"],
            due_date=dt.date(2026, 12, 15),
        )
        reporters = {n: make_user("staff", n.unit) for n in (n1, k1, k3, j1)}
        reporters[m2] = staff
        traveller.move_to(at("2026-11-09 10:00"))
        node_complete(node=k1, actor=reporters[k1], note="已完成。")
        traveller.move_to(at("2026-11-12 10:00"))
        node_archive(node=k2, actor=office, reason="合并到下一节点。")
        for when, node, percent in (
            ("2026-11-19 10:00", j1, 80),
            ("2026-11-25 10:00", k3, 10),
            ("2026-11-28 10:00", n1, 62),
            ("2026-11-29 10:00", m2, 20),
        ):
            traveller.move_to(at(when))
            node_progress_report(node=node, actor=reporters[node], percent=percent, note="进展。")
    live = {
        user: {stream: dashboard(user=user, work_stream=stream) for stream in (None, land_stream())}
        for user in (office, staff)
    }
    # when: the next day, nothing having happened since, 11-30 rebuilt from the history
    frozen.move_to(at("2026-12-01 10:00"))
    rebuilt = {
        user: {
            stream: dashboard(user=user, as_of=dt.date(2026, 11, 30), work_stream=stream)
            for stream in (None, land_stream())
        }
        for user in (office, staff)
    }
    # then: what the database worked out live that day
    county = live[office][None]
    assert {row.light.value: row.count for row in county.lights} == lights(
        done=2, red=2, awaiting_approval=2, yellow=1, lagging=5, due_soon=1, on_track=1
    )
    assert [(row.name, row.lights) for row in county.by_unit if row.name in units] == [
        ("一局", lights(lagging=1)),
        ("三局", lights(done=1, lagging=1)),
        ("二局", lights(due_soon=1)),
        ("四局", lights(lagging=1)),
    ]
    assert unit_lights(county, "县自然资源局") == lights(
        done=1, red=1, awaiting_approval=1, yellow=1, lagging=1, on_track=1
    )
    # and the same rebuilt, for the office and for the staff (who do not see 二局's node)
    for user in (office, staff):
        for stream in (None, land_stream()):
            assert rebuilt[user][stream] == replace(live[user][stream], live=False), (user, stream)


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2026-12-01", "截至日期不能晚于今天。"),
        ("2026-13-01", "日期格式应为 YYYY-MM-DD，例如 2026-11-30。"),
        ("30/11/2026", "日期格式应为 YYYY-MM-DD，例如 2026-11-30。"),
        ("1999-12-31", "截至日期不能早于2000年1月1日。"),
    ],
)
def test_a_refused_day_answers_400_in_chinese_and_changes_nothing(w, frozen, as_of, message):
    # given
    before = state()
    client = Client()
    client.force_login(w.users["principal"])
    # when
    response = api(w.users["principal"], f"stats/overview/?as_of={as_of}")
    page = client.get(reverse("home"), {"as_of": as_of})
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": {"as_of": [message]}}
    assert page.status_code == 400
    assert message in page.content.decode()
    assert page.context["figures"].as_of == dt.date(2026, 11, 30)
    assert state() == before


def test_an_unknown_work_stream_is_refused(w, frozen):
    response = api(w.users["principal"], "stats/overview/?work_stream=nope")
    assert response.status_code == 400
    assert response.json()["errors"] == {"work_stream": ["没有这个专项。"]}


def test_today_as_of_is_today(w, frozen):
    assert dashboard(user=w.users["office"], as_of=dt.date(2026, 11, 30)).live is True
    assert (
        api(w.users["office"], "stats/overview/?as_of=2026-11-30").json()
        == api(w.users["office"], "stats/overview/").json()
    )


def land_stream() -> WorkStream:
    return WorkStream.objects.land()


# -- work streams ------------------------------------------------------------------------------


def other_stream_node(w: World) -> Node:
    """A node of a project in another work stream (专项), due before today: a yellow card."""
    with time_machine.travel(at("2026-11-02 09:00"), tick=False):
        stream = WorkStream.objects.create(code="roads", name="交通项目", seq=2)
        project = ProjectFactory(
            code="JT-001", work_stream=stream, locality=LocalityFactory(name="上派镇")
        )
        node = NodeFactory(project=project, seq=1, unit=w.land, due_date=dt.date(2026, 11, 12))
    return node


def test_the_disposal_table_counts_the_land_stream_alone_and_the_filter_narrows_the_counts(
    w, frozen
):
    # given
    with time_machine.travel(at("2026-11-02 09:00"), tick=False):
        node = other_stream_node(w)
    run = sweep_run()
    assert (run.yellow, list(node.cards.values_list("kind", flat=True))) == (1, ["yellow"])
    # when
    everything = dashboard(user=w.users["office"])
    roads = dashboard(user=w.users["office"], work_stream=node.project.work_stream)
    land = dashboard(user=w.users["office"], work_stream=WorkStream.objects.land())
    # then
    assert (everything.nodes, everything.yellow, everything.disposal.projects) == (9, 6, 2)
    assert (roads.nodes, roads.yellow, roads.disposal) == (1, 1, None)
    assert [row.name for row in roads.by_locality] == ["上派镇"]
    assert (land.nodes, land.yellow, land.disposal.projects) == (8, 5, 2)


# -- the demo ----------------------------------------------------------------------------------


def test_the_demo_dashboard_and_api_give_the_published_disposal_table():
    # given
    call_command("load_demo", stdout=StringIO())
    with time_machine.travel(at("2026-11-02 09:00"), tick=False):
        other = WorkStream.objects.create(code="roads", name="交通项目", seq=2)
        ProjectFactory(code="JT-001", work_stream=other)
        DisposalLineFactory(project=Project.objects.get(code="JT-001"), area_mu=Decimal("9.00"))
    principal = User.objects.get(username="principal")
    client = Client()
    client.force_login(principal)
    # when
    page = client.get(reverse("home"))
    data = api(principal, "stats/disposal-methods/").json()
    # then
    assert data == {
        "methods": [
            {"method": "takeback", "projects": 34, "area_mu": "1609.90"},
            {"method": "grafting", "projects": 3, "area_mu": "340.00"},
            {"method": "self_upgrade", "projects": 4, "area_mu": "389.39"},
        ],
        "total": {"projects": 39, "area_mu": "2339.29"},
    }
    body = page.content.decode()
    for method, projects, area in (
        ("takeback", 34, "1609.90"),
        ("grafting", 3, "340.00"),
        ("self_upgrade", 4, "389.39"),
        ("total", 39, "2339.29"),
    ):
        row = body.split(f'data-method="{method}"', 1)[1].split("</tr>", 1)[0]
        assert f">{projects}<" in row and f">{area}<" in row, method


# -- the pages ---------------------------------------------------------------------------------


def test_every_signed_in_user_lands_on_the_dashboard_with_the_nav_link_first(w, frozen):
    for role in ("staff", "leader", "principal", "office", "admin"):
        client = Client()
        client.force_login(w.users[role])
        response = client.get(reverse("home"))
        body = response.content.decode()
        nav = body.split('class="mainnav"', 1)[1]
        assert response.status_code == 200, role
        assert nav.index(f'href="{reverse("home")}" class="active"') < nav.index("</a>"), role


def test_the_dashboards_counts_link_to_the_filtered_node_list(w, frozen):
    # given
    client = Client()
    client.force_login(w.users["principal"])
    body = client.get(reverse("home")).content.decode()
    # when: follow the red count of the land department
    link = f"{reverse('node-list')}?unit=%E5%8E%BF%E8%87%AA%E7%84%B6%E8%B5%84%E6%BA%90%E5%B1%80&amp;light=red"
    assert link in body
    listed = client.get(link.replace("&amp;", "&"))
    # then
    assert listed.status_code == 200
    assert [n.pk for n in listed.context["page"].object_list] == [w.node("a_red").pk]


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        (
            "",
            ["a_done", "a_red", "a_yellow", "a_pending", "a_open", "b_red", "b_pending", "b_open"],
        ),
        ("?light=awaiting_approval", ["a_pending", "b_pending"]),
        ("?light=lagging", ["a_open", "b_open"]),
        ("?light=lagging&unit=县住建局", ["b_open"]),
        ("?card=red", ["a_red", "b_red"]),
        ("?card=yellow&locality=桃花镇", ["a_yellow", "a_pending", "b_pending"]),
        ("?work_stream=land&light=done", ["a_done"]),
        ("?light=purple", []),
    ],
)
def test_the_node_list_filters(w, frozen, query, keys):
    client = Client()
    client.force_login(w.users["office"])
    response = client.get(reverse("node-list") + query)
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"].object_list] == [w.node(k).pk for k in keys]


def test_the_node_list_is_scoped(w, frozen):
    client = Client()
    client.force_login(w.users["staff_other"])
    response = client.get(reverse("node-list"))
    assert [n.pk for n in response.context["page"].object_list] == [
        w.node(k).pk for k in ("b_red", "b_pending", "b_open")
    ]


# -- cost --------------------------------------------------------------------------------------


def grow(w: World, n: int) -> None:
    """n more projects in n more localities, each with an overdue node of a new unit (a
    yellow card) and a done one, and red cards with items for every other one."""
    with time_machine.travel(at("2026-11-02 09:00"), tick=False) as traveller:
        for i in range(n):
            project = ProjectFactory(code=f"GX-{i:03d}", locality=LocalityFactory(name=f"新镇{i}"))
            DisposalLineFactory(project=project, method="grafting")
            unit = UnitFactory(name=f"新单位{i}")
            NodeFactory(project=project, seq=1, unit=unit, due_date=dt.date(2026, 11, 10))
            NodeFactory(project=project, seq=2, unit=unit, due_date=dt.date(2026, 12, 10))
        traveller.move_to(at("2026-11-11 01:00"))
        sweep_run()
        traveller.move_to(at("2026-11-17 01:00"))
        sweep_run()


def queries_of(django_assert_max_num_queries, client: Client, url: str, pin: int) -> str:
    with django_assert_max_num_queries(pin):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# The dashboard: session, user, scope, then its four reads (nodes with their lights, cards,
# items, disposal lines), unread notifications, the calendar warning and the work-stream
# choices: 10. A past day reads the nodes' history, the cards in force, the pending
# recommitments, the last progress reports and the rule versions instead of the lights, and
# checks the chosen stream: 15. The node list: session, user, scope, the filters' choices,
# the count and the page, the page's context.
DASHBOARD_PIN = 10
DASHBOARD_AS_OF_PIN = 15
NODE_LIST_PIN = 11


@pytest.mark.parametrize("extra", [0, 12])
def test_the_dashboard_costs_a_fixed_number_of_queries(w, django_assert_max_num_queries, extra):
    grow(w, extra)
    with time_machine.travel(NOW, tick=False):
        client = Client()
        client.force_login(w.users["office"])
        body = queries_of(django_assert_max_num_queries, client, reverse("home"), DASHBOARD_PIN)
        queries_of(
            django_assert_max_num_queries,
            client,
            reverse("home") + "?as_of=2026-11-20&work_stream=land",
            DASHBOARD_AS_OF_PIN,
        )
        queries_of(
            django_assert_max_num_queries,
            client,
            reverse("node-list") + "?light=red&locality=桃花镇",
            NODE_LIST_PIN,
        )
        response = client.get(reverse("home"))
        # staff: the same pin (their page reads no items)
        staff = Client()
        staff.force_login(w.users["staff"])
        queries_of(django_assert_max_num_queries, staff, reverse("home"), DASHBOARD_PIN)
    assert response.context["figures"].nodes == 8 + 2 * extra
    assert response.context["figures"].red == 2 + extra
    assert "新镇" in body or extra == 0
