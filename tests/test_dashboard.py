"""The dashboard (总览), its "as of" reconstruction, the node list and the two stats endpoints.

The world is the pages' matrix world (tests/test_pages_matrix.py): on Monday 2026-11-30 the
land department (县自然资源局) has five nodes of FX-001 (done, red, yellow, awaiting approval,
on track) and the housing department (县住建局) three of FX-002 (red, awaiting, on track),
all in 桃花镇. Yellow cards were dated 11-11 (two) and 11-27 (three), red cards 11-17 (two),
each red card opening a supervision item.
"""

import datetime as dt
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
from reports.selectors.dashboard import dashboard, disposal_table
from supervision.choices import Light
from supervision.models import Card, Recommitment
from supervision.services import (
    card_revoke,
    node_change_due_date,
    node_complete,
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
    county = lights(done=1, red=2, awaiting_approval=2, yellow=1, on_track=2)
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
                {"label": "90天以上", "min_days": 91, "max_days": None, "count": 0},
            ],
        },
        "by_locality": [breakdown("桃花镇", county, 5, 2, 2, 13, taohua.pk)],
        "by_unit": [
            breakdown(
                "县住建局",
                lights(red=1, awaiting_approval=1, on_track=1),
                2,
                1,
                1,
                13,
                w.housing.pk,
            ),
            breakdown(
                "县自然资源局",
                lights(done=1, red=1, awaiting_approval=1, yellow=1, on_track=1),
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
    assert {row.light.value: row.count for row in figures.lights}["lagging"] == 0


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
    land = lights(done=1, red=1, awaiting_approval=1, yellow=1, on_track=1)
    assert data["nodes"] == 5
    assert [row["name"] for row in data["by_unit"]] == ["县自然资源局"]
    assert data["by_unit"][0]["lights"] == land
    assert (data["cards"]["yellow"], data["cards"]["red"], data["items"]["open"]) == (3, 1, 1)
    assert table["total"] == {"projects": 1, "area_mu": "10.00"}
    assert table["methods"][1] == {"method": "grafting", "projects": 0, "area_mu": "0.00"}


def test_a_leader_sees_the_units_in_charge(w, frozen):
    # when
    data = figures_of(api(w.users["leader_other"], "stats/overview/"))
    # then
    assert data["nodes"] == 3
    assert [row["name"] for row in data["by_unit"]] == ["县住建局"]
    assert data["by_locality"][0]["lights"] == lights(red=1, awaiting_approval=1, on_track=1)
    assert (data["cards"]["yellow"], data["cards"]["red"], data["items"]["open"]) == (2, 1, 1)


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
    # given: a second on-track node of the housing department
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
    # then
    assert data["as_of"] == "2026-11-20"
    assert {row["light"]: row["count"] for row in data["lights"]} == lights(
        done=1, red=2, on_track=5
    )
    assert data["cards"] == {"year": 2026, "yellow": 2, "red": 2, "total": 4, "this_week": 2}
    assert (data["items"]["open"], data["items"]["oldest_days"]) == (2, 3)


def test_the_day_before_the_red_cards_shows_yellow_cards_and_no_item(w, frozen):
    data = figures_of(api(w.users["office"], "stats/overview/?as_of=2026-11-16"))
    assert {row["light"]: row["count"] for row in data["lights"]} == lights(
        done=1, yellow=2, on_track=5
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
    # and today's figures did move
    today = dashboard(user=office)
    assert {row.light.value: row.count for row in today.lights} == lights(
        done=2, red=1, awaiting_approval=1, yellow=3, due_soon=1
    )
    assert (today.items_open, today.red) == (0, 1)
    assert disposal_table(user=office).rows[2].area_mu == Decimal("5.50")


def test_the_due_date_held_that_day_decides_the_light_of_that_day(w, frozen):
    """A node moved after the day to a date close to it is not due soon as of that day."""
    # given: b_open (due 12-20) moved on 11-30 to 12-02
    office = w.users["office"]
    node_change_due_date(
        node=Node.objects.get(pk=w.node("b_open").pk),
        actor=office,
        due_date=dt.date(2026, 12, 2),
        reason="计划调整。",
    )
    # when
    past = dashboard(user=office, as_of=dt.date(2026, 11, 29))
    now = dashboard(user=office)
    # then
    assert {r.light.value: r.count for r in past.lights}["due_soon"] == 0
    assert {r.light.value: r.count for r in now.lights}["due_soon"] == 1


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
        ("?light=on_track&unit=县住建局", ["b_open"]),
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
# choices: 10. A past day reads the nodes' history, the cards in force and the pending
# recommitments instead of the lights, and checks the chosen stream: 13. The node list:
# session, user, scope, the filters' choices, the count and the page, the page's context.
DASHBOARD_PIN = 10
DASHBOARD_AS_OF_PIN = 13
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
    assert response.context["figures"].nodes == 8 + 2 * extra
    assert response.context["figures"].red == 2 + extra
    assert "新镇" in body or extra == 0
