"""Large lists: keyset pagination (cursor), the optional count, the cached OpenAPI document,
scoping without duplicates, and the lists' query counts at two data sizes."""

import base64
import datetime as dt
import json
from unittest import mock

import pytest
from django.test import Client

from organization.models import Coverage
from projects.models import Node, Project
from supervision.models import Card
from tests.factories import EnterpriseFactory, NodeFactory
from tests.test_api_support import NOW, api_get, card_make, ids

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

BAD_CURSOR = "分页游标无效或已不适用于该列表，请去掉 cursor 从第一页重新获取。"


def nodes_make(world, n: int, *, start: int = 10) -> list[Node]:
    """n more nodes of the staff's unit on the world's project."""
    return [
        NodeFactory(project=world.project, unit=world.unit, seq=start + i, name=f"节点{i}")
        for i in range(n)
    ]


def cards_make(world, n: int, *, at: dt.datetime, start: int = 10) -> list[Card]:
    """n yellow cards breached at the same instant (ties on the sort key)."""
    return [card_make(node, "yellow", breached_at=at) for node in nodes_make(world, n, start=start)]


def walk(client, path, token, limit, **params) -> list[int]:
    """Every row of a list, page after page with the `next` cursor."""
    seen, cursor = [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        answer = api_get(client, path, token, **query)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        seen += [row["id"] for row in body["results"]]
        if cursor is not None:
            assert body["count"] is None
        cursor = body["next"]
        if cursor is None:
            return seen


def offsets(client, path, token, limit, total, **params) -> list[int]:
    seen = []
    for offset in range(0, total, limit):
        seen += ids(api_get(client, path, token, limit=limit, offset=offset, **params))
    return seen


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
@pytest.mark.parametrize(
    ("path", "role"),
    [("cards/", "staff"), ("cards/", "supervisor"), ("nodes/", "staff"), ("nodes/", "leader")],
)
def test_cursor_walk_equals_offset_walk(client, world, path, role, limit):
    # given: cards with ties on breached_at, and one breached earlier
    cards_make(world, 4, at=NOW - dt.timedelta(days=2))
    card_make(world.node, "yellow", breached_at=NOW - dt.timedelta(days=5))
    card_make(world.other_node, "yellow", breached_at=NOW - dt.timedelta(days=2))
    token = world.token(role)
    total = api_get(client, path, token).json()["count"]
    # when
    by_cursor = walk(client, path, token, limit)
    by_offset = offsets(client, path, token, limit, total)
    # then
    assert by_cursor == by_offset
    assert len(by_cursor) == total == len(set(by_cursor))


def test_cursor_walk_follows_the_filters(client, world):
    cards_make(world, 3, at=NOW - dt.timedelta(days=2))
    card_make(world.node, "red", breached_at=NOW - dt.timedelta(days=2))
    token = world.token("supervisor")
    assert walk(client, "cards/", token, 1, kind="yellow") == offsets(
        client, "cards/", token, 1, 3, kind="yellow"
    )
    assert walk(client, "nodes/", token, 2, light="yellow") == offsets(
        client, "nodes/", token, 2, 3, light="yellow"
    )


def test_stale_cursor_neither_repeats_nor_skips(client, world):
    # given: the first page of the cards, newest breach first
    at = NOW - dt.timedelta(days=3)
    old = cards_make(world, 5, at=at)
    token = world.token("staff")
    first = api_get(client, "cards/", token, limit=2).json()
    # when: cards are added before and after the cursor's place, then the walk goes on
    newer = cards_make(world, 2, at=NOW - dt.timedelta(days=1), start=100)
    older = cards_make(world, 2, at=NOW - dt.timedelta(days=9), start=200)
    rest, cursor = [], first["next"]
    while cursor:
        body = api_get(client, "cards/", token, limit=2, cursor=cursor).json()
        rest += ids_of(body)
        cursor = body["next"]
    # then: every card there at the start comes exactly once; the newer ones (before the
    # cursor) are not in the rest of the walk, the older ones are at its end
    walked = ids_of(first) + rest
    assert sorted(walked) == sorted([c.pk for c in old] + [c.pk for c in older])
    assert len(walked) == len(set(walked))
    assert not {c.pk for c in newer} & set(walked)
    assert rest[-2:] == sorted((c.pk for c in older), reverse=True)


def ids_of(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_count_is_optional_and_next_is_given(client, world):
    nodes_make(world, 3)
    token = world.token("staff")
    counted = api_get(client, "nodes/", token, limit=2).json()
    uncounted = api_get(client, "nodes/", token, limit=2, count="false").json()
    assert counted["count"] == 4
    assert uncounted["count"] is None
    assert counted["results"] == uncounted["results"]
    assert counted["next"] == uncounted["next"] is not None
    last = api_get(client, "nodes/", token, limit=2, offset=2).json()
    assert last["next"] is None
    assert len(last["results"]) == 2


def test_scores_walk_by_cursor(client, world):
    token = world.token("supervisor")
    whole = api_get(client, "scores/", token, year=2026).json()
    walked = []
    cursor = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        body = api_get(client, "scores/", token, year=2026, limit=1, **extra).json()
        walked += body["results"]
        cursor = body["next"]
        if cursor is None:
            break
    assert walked == whole["results"]
    assert whole["next"] is None


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("nodes/", "!!!not base64!!!"),
        ("nodes/", _b64("not json")),
        ("nodes/", _b64(json.dumps([1, 2]))),
        ("nodes/", _b64(json.dumps({"k": ["pk"], "v": [1]}))),
        ("cards/", _b64(json.dumps({"k": ["project__code", "seq", "pk"], "v": ["a", 1, 1]}))),
        ("cards/", _b64(json.dumps({"k": ["breached_at", "pk"], "v": ["yesterday", 1]}))),
        ("cards/", _b64(json.dumps({"k": ["breached_at", "pk"], "v": ["2026-01-01", "x"]}))),
        ("cards/", _b64(json.dumps({"k": ["breached_at", "pk"], "v": [1, 2**70]}))),
        ("cards/", _b64(json.dumps({"k": ["breached_at", "pk"], "v": [[1], {"a": 1}]}))),
        ("nodes/", _b64(json.dumps({"k": ["project__code", "seq", "pk"], "v": ["\x00", 1, 1]}))),
        ("nodes/", _b64(json.dumps({"k": ["project__code", "seq", "pk"], "v": ["a", "b", 1]}))),
        ("scores/", _b64(json.dumps({"k": ["#"], "v": [-1]}))),
        ("scores/", _b64(json.dumps({"k": ["#"], "v": ["1"]}))),
        ("supervision-items/", "é"),
    ],
)
def test_bad_cursor_answers_400(client, world, path, cursor):
    answer = api_get(client, path, world.token("supervisor"), cursor=cursor)
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"cursor": [BAD_CURSOR]}


def test_cursor_too_long_answers_400(client, world):
    answer = api_get(client, "nodes/", world.token("staff"), cursor="A" * 2001)
    assert answer.status_code == 400


def test_openapi_is_built_once_per_process():
    from nodetrack.api import api

    api._openapi_schemas.clear()
    client = Client()
    with mock.patch(
        "ninja.main.get_schema", wraps=__import__("ninja.main").main.get_schema
    ) as build:
        first = client.get("/api/v1/openapi.json")
        second = client.get("/api/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert build.call_count == 1
    assert first.content == second.content
    page = first.json()["components"]["schemas"]["NodeOutPage"]
    assert page["required"] == ["count", "results"]
    assert page["properties"]["next"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


def test_scoping_lists_a_node_once_whatever_the_paths(client, world):
    # given: the leader covers the project by every path at once, and leads its unit
    leader = world.users["leader"]
    enterprise = EnterpriseFactory()
    Project.objects.filter(pk=world.project.pk).update(leader=leader, enterprise=enterprise)
    Coverage.objects.create(leader=leader, target="project", project=world.project)
    Coverage.objects.create(leader=leader, target="locality", locality=world.locality)
    Coverage.objects.create(leader=leader, target="enterprise", enterprise=enterprise)
    # when
    nodes = Node.objects.visible_to(leader)
    projects = Project.objects.visible_to(leader)
    cards = Card.objects.visible_to(leader)
    card_make(world.node, "yellow")
    # then: the other project is covered through the locality
    assert sorted(nodes.values_list("pk", flat=True)) == sorted(
        [world.node.pk, world.other_node.pk]
    )
    assert sorted(projects.values_list("code", flat=True)) == ["FX-001", "FX-002"]
    assert cards.count() == 1
    assert api_get(client, "nodes/", world.token("leader")).json()["count"] == 2


def test_scoping_of_a_leader_with_no_unit_and_no_coverage(world):
    nobody = world.users["staff_other"]
    nobody.role_assignments.all().delete()
    assert list(Node.objects.visible_to(nobody)) == []
    assert list(Project.objects.visible_to(nobody)) == []
    assert list(Card.objects.visible_to(nobody)) == []


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(
    ("path", "role", "pin"),
    [
        # token, roles, count, page, and the facts of the page's rows with the rule in force
        # (a node's light is worked out in Python for the page alone)
        ("nodes/", "staff", 5),
        ("nodes/", "supervisor", 5),
        ("cards/", "staff", 4),
        ("cards/", "leader", 4),
        ("projects/", "supervisor", 6),
    ],
)
def test_list_queries_do_not_grow(
    client, world, django_assert_max_num_queries, path, role, pin, size
):
    # given
    cards_make(world, size, at=NOW - dt.timedelta(days=2))
    token = world.token(role)
    api_get(client, path, token)
    # when / then: one page, counted, and one by cursor
    with django_assert_max_num_queries(pin):
        first = api_get(client, path, token, limit=1)
    with django_assert_max_num_queries(pin):
        api_get(client, path, token, limit=1, cursor=first.json()["next"])


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(
    ("path", "role", "pin"),
    [
        ("/projects/", "staff", 10),
        ("/projects/", "leader", 10),
        ("/todo/", "staff", 8),
        ("/office/cards/", "supervisor", 9),
        ("/office/items/", "supervisor", 9),
    ],
)
def test_pages_queries_do_not_grow(
    client, world, django_assert_max_num_queries, path, role, pin, size
):
    cards_make(world, size, at=NOW - dt.timedelta(days=2))
    client.force_login(world.users[role])
    client.get(path)
    with django_assert_max_num_queries(pin):
        assert client.get(path).status_code == 200


def test_a_list_ordered_by_an_expression_pages_by_offset_only(world):
    from django.core.exceptions import ValidationError
    from django.db.models import F

    from core.api.pagination import ListParams, paginate

    nodes_make(world, 2)
    nodes = Node.objects.order_by(F("seq").desc())
    page = paginate(nodes, ListParams(limit=1))
    assert page["count"] == 4
    assert page["next"] is None
    assert [n.seq for n in page["results"]] == [11]
    with pytest.raises(ValidationError):
        paginate(nodes, ListParams(limit=1, cursor="eyJrIjpbXSwidiI6W119"))
