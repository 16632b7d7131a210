"""REST API: every node row carries its light, the same decision the pages show, and the node
list filters by it."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Node
from supervision.choices import Light
from supervision.selectors import light_of, nodes_with_card
from tests.factories import NodeFactory, ProjectFactory
from tests.test_api_support import NOW, api_get, card_make, recommitment_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

TODAY = NOW.date()  # Monday 2026-11-23


@pytest.fixture
def lights(world):
    """One node of the staff's unit for each light, named after it."""
    unit, locality = world.unit, world.locality

    def node(name: str, *, start=None, **kw) -> Node:
        project = ProjectFactory(code=f"L-{name}", locality=locality, start_date=start)
        return NodeFactory(project=project, seq=1, name=name, unit=unit, **kw)

    world.node.name = "yellow"
    world.node.save()
    card_make(world.node, "yellow")  # due 11-20: past due, carded
    red = node("red", due_date=dt.date(2026, 11, 10), start=dt.date(2026, 10, 1))
    card_make(red, "yellow")
    card_make(red, "red")
    waiting = node("awaiting_approval", due_date=dt.date(2026, 11, 18))
    card_make(waiting, "yellow")
    recommitment_make(waiting, world.users["staff"])
    node("done", due_date=dt.date(2026, 12, 31), completed_at=NOW, progress=100)
    # 53 of 91 days (58%) used, nothing reported: 58 points behind
    node("lagging", due_date=dt.date(2026, 12, 31), start=dt.date(2026, 10, 1), progress=10)
    # 3 of 5 days (60%) used at 40%: 20 behind; due in 2 days
    node("due_soon", due_date=dt.date(2026, 11, 25), start=dt.date(2026, 11, 20), progress=40)
    node("on_track", due_date=dt.date(2027, 3, 1), start=dt.date(2026, 11, 20))
    return world


def test_every_row_carries_its_light_as_the_pages_decide_it(client, lights):
    # when
    response = api_get(client, "nodes/", lights.token("staff"))
    # then
    assert response.status_code == 200
    rows = {r["name"]: r["light"] for r in response.json()["results"]}
    assert rows == {light.value: light.value for light in Light}
    pages = {n.name: light_of(n).value for n in nodes_with_card(Node.objects.all())}
    assert {name: pages[name] for name in rows} == rows


@pytest.mark.parametrize("light", [light.value for light in Light])
def test_the_list_filters_by_light(client, lights, light):
    # when
    response = api_get(client, "nodes/", lights.token("staff"), light=light)
    # then
    assert response.status_code == 200
    assert [(r["name"], r["light"]) for r in response.json()["results"]] == [(light, light)]


def test_the_light_filter_keeps_to_the_scope(client, lights):
    # when: the other unit's staff asks for the lagging nodes
    response = api_get(client, "nodes/", lights.token("staff_other"), light="lagging")
    # then
    assert response.json() == {"count": 0, "next": None, "results": []}


def test_an_unknown_light_is_400(client, lights):
    # when
    response = api_get(client, "nodes/", lights.token("staff"), light="purple")
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "请求参数有误。",
        "errors": {
            "light": [
                "取值无效，可选：done、red、awaiting_approval、yellow、lagging、due_soon、on_track。"
            ]
        },
    }


def test_project_rows_carry_the_light_of_each_node(client, lights):
    # when
    response = api_get(client, "projects/L-lagging/", lights.token("supervisor"))
    # then
    assert [(n["name"], n["light"]) for n in response.json()["nodes"]] == [("lagging", "lagging")]


def test_the_schema_lists_the_lights_in_order(client, db):
    # when
    doc = client.get("/api/v1/openapi.json").json()
    # then
    schemas = doc["components"]["schemas"]
    light = schemas["NodeOut"]["properties"]["light"]
    enum = schemas[light["$ref"].rsplit("/", 1)[-1]]["enum"] if "$ref" in light else light["enum"]
    assert enum == [
        "done",
        "red",
        "awaiting_approval",
        "yellow",
        "lagging",
        "due_soon",
        "on_track",
    ]
    assert "light" in schemas["NodeOut"]["required"]
    assert "序时进度预警" in str(light)


def test_node_list_query_count_does_not_grow_with_lights(
    client, lights, django_assert_max_num_queries
):
    # given
    token = lights.token("staff")
    api_get(client, "nodes/", token)
    with CaptureQueriesContext(connection) as few:
        api_get(client, "nodes/", token, limit=500)
    for i in range(30):
        project = ProjectFactory(start_date=dt.date(2026, 10, 1), locality=lights.locality)
        NodeFactory(project=project, seq=1, unit=lights.unit, due_date=dt.date(2026, 12, 1 + i))
        NodeFactory(project=project, seq=2, unit=lights.unit, due_date=dt.date(2027, 1, 1 + i))
    # when
    with django_assert_max_num_queries(len(few)):
        response = api_get(client, "nodes/", token, limit=500)
    with django_assert_max_num_queries(len(few)):
        filtered = api_get(client, "nodes/", token, limit=500, light="lagging")
    # then
    assert response.json()["count"] == 67
    assert filtered.json()["count"] == 31
    assert len(few) <= 5  # token, roles, count, page, the page's facts
