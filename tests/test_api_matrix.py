"""Every REST endpoint under /api/v1/, for every role: exactly the answer the role's scope
gives, no write from outside a role's scope changes anything, and another unit's object ids
answer 404 (issue 10, section 8).

The endpoints are enumerated from the API's OpenAPI schema, so an endpoint added later is in
the matrix at once, and fails here until it has a row in the table below. The world is the
one the pages' matrix builds (tests/test_pages_matrix.py), with a 包保 leader added, and a
bearer token for every signed-in role.
"""

import json
import re

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from nodetrack.api import api
from organization.choices import CoverageTarget
from organization.models import ApiToken, Coverage
from organization.services import api_token_revoke
from organization.tokens import api_token_create
from projects.models import Node
from supervision.models import Card, Recommitment, SupervisionItem
from tests.factories import UnitFactory, make_user
from tests.test_pages_matrix import NOW, World, at, state, world_build

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1/"

ROLES = (
    "anonymous",
    "staff",
    "staff_other",
    "leader",
    "leader_other",
    "leader_cover",
    "principal",
    "office",
    "admin",
)


def endpoints() -> list[tuple[str, str]]:
    """Every operation of the API as (METHOD, path below /api/v1/), from its OpenAPI schema."""
    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        assert path.startswith(PREFIX), path
        for method in operations:
            found.append((method.upper(), path.removeprefix(PREFIX)))
    return sorted(found)


ENDPOINTS = endpoints()


def world_with_tokens() -> tuple[World, dict[str, str]]:
    """The pages' world, plus `leader_cover`: the leader in charge of a third department who
    covers (包保) the enterprise of the land department's project, FX-001; and a token each."""
    w = world_build()
    with time_machine.travel(at("2026-11-02 09:00"), tick=False):
        reform = UnitFactory(name="县发展改革委")
        cover = make_user("leader", reform, username="leader_cover")
        Coverage.objects.create(
            leader=cover, target=CoverageTarget.ENTERPRISE, enterprise=w.project.enterprise
        )
    w.users["leader_cover"] = cover
    with time_machine.travel(NOW, tick=False):
        tokens = {role: api_token_create(user=user) for role, user in w.users.items()}
    return w, tokens


@pytest.fixture
def wt():
    return world_with_tokens()


@pytest.fixture
def frozen(wt):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


# How to fill a path's parameters: by (path, parameter) first, then by parameter. `land`
# gives the land department's objects (in scope of `staff`, `leader` and `leader_cover`),
# `housing` the housing department's, which `staff_other` and `leader_other` work for.
PARAMS = {
    "node_id": {"land": lambda w: w.node("a_open").pk, "housing": lambda w: w.node("b_open").pk},
    ("nodes/{node_id}/recommitments/", "node_id"): {
        "land": lambda w: w.node("a_yellow").pk,
        "housing": lambda w: w.node("b_red").pk,
    },
    "code": {"land": lambda w: w.project.code, "housing": lambda w: w.other_project.code},
    "recommitment_id": {
        "land": lambda w: w.pending.pk,
        "housing": lambda w: Recommitment.objects.get(node=w.node("b_pending")).pk,
    },
    "card_id": {
        "land": lambda w: w.red_card.pk,
        "housing": lambda w: Card.objects.get(node=w.node("b_red"), kind="red").pk,
    },
    "item_id": {
        "land": lambda w: w.item.pk,
        "housing": lambda w: SupervisionItem.objects.get(node=w.node("b_red")).pk,
    },
    # Bulletins are county-wide: the "other" id is a draft, which no one reads here.
    "bulletin_id": {"land": lambda w: w.bulletin.pk, "housing": lambda w: w.draft_bulletin.pk},
}

PARAMETER = re.compile(r"\{(\w+)\}")


def path_params(path: str) -> list[str]:
    return PARAMETER.findall(path)


def url(path: str, w: World, side: str = "land") -> str:
    """The endpoint's URL, its parameters filled with the `side` department's objects; a
    parameter nobody told this module how to fill fails the test."""
    values = {}
    for param in path_params(path):
        fill = PARAMS.get((path, param)) or PARAMS.get(param)
        if fill is None:
            pytest.fail(f"{path}: no value for the parameter {param!r}; add one to PARAMS")
        values[param] = fill[side](w)
    return PREFIX + path.format(**values)


# A valid JSON body for each write.
BODIES = {
    "nodes/{node_id}/complete/": {"note": "已交付。"},
    "nodes/{node_id}/progress/": {"percent": 60, "note": "已完成六成。"},
    "nodes/{node_id}/recommitments/": {
        "reason": "评估机构排期延后。",
        "new_due_date": "2026-12-15",
    },
    "recommitments/{recommitment_id}/approve/": {"comment": "同意。"},
    "recommitments/{recommitment_id}/reject/": {"comment": "补偿资金来源不明，请补充。"},
    "cards/{card_id}/revoke/": {"reason": "节点计划日期录入错误。"},
    "supervision-items/{item_id}/inspections/": {
        "mode": "offline",
        "inspected_on": "2026-11-30",
        "text": "再次现场督查。",
    },
    "supervision-items/{item_id}/deadline/": {"supervised_deadline": "2026-12-15"},
    "supervision-items/{item_id}/close/": {"note": "已整改到位。"},
}


def call(client: Client, method: str, target: str, token: str | None, body: dict | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(target, **headers)
    assert method == "POST", method
    return client.post(target, json.dumps(body or {}), content_type="application/json", **headers)


def answer(response) -> str:
    """A response as a cell of the table: its status code, and for a list its row count
    after a colon ("200:3"). Every answer of the API is JSON."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    data = response.json()
    if response.status_code == 200 and isinstance(data, dict) and "count" in data:
        return f"200:{data['count']}"
    return str(response.status_code)


def table(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """A table written as text, one row per endpoint (method and path), one column per role."""
    header, *rows = [line.split() for line in text.strip().splitlines()]
    assert header[2:] == list(ROLES), header
    parsed = {}
    for row in rows:
        assert len(row) == len(header), row
        key = (row[0], row[1])
        assert key not in parsed, key
        parsed[key] = dict(zip(ROLES, row[2:], strict=True))
    return parsed


# What each endpoint answers each role, called on the land department's objects (FX-001):
#   200:N  a list of N rows (the count of the whole list, not of one page)
#   200    the object; for a write, it went through (in a savepoint rolled back afterwards)
#   201    the write made a new row
#   401    no token: nothing is said
#   403    the role may not do this (the object is in the role's sight); nothing changed
#   404    the object is outside the role's scope: nothing says it exists; nothing changed
# `leader_cover` is in charge of another department and covers (包保) FX-001's enterprise:
# it reads the land department's nodes and cards, but decides nothing of theirs.
# `admin` is a superuser holding no role: it reads everything and writes nothing here.
TABLE = table(
    """
method path                                       anonymous staff staff_other leader leader_other leader_cover principal office admin
GET    bulletins/                                 401       200:1 200:1       200:1  200:1        200:1        200:1     200:1  200:1
GET    bulletins/{bulletin_id}/                   401       200   200         200    200          200          200       200    200
GET    cards/                                     401       200:4 200:3       200:4  200:3        200:4        200:7     200:7  200:7
POST   cards/{card_id}/revoke/                    401       403   404         403    404          403          403       200    403
GET    nodes/                                     401       200:5 200:3       200:5  200:3        200:5        200:8     200:8  200:8
POST   nodes/{node_id}/complete/                  401       200   404         403    404          403          403       403    403
POST   nodes/{node_id}/progress/                  401       201   404         403    404          403          403       403    403
POST   nodes/{node_id}/recommitments/             401       201   404         403    404          403          403       403    403
GET    projects/                                  401       200:1 200:1       200:1  200:1        200:1        200:2     200:2  200:2
GET    projects/{code}/                           401       200   404         200    404          200          200       200    200
GET    recommitments/                             401       200:1 200:1       200:1  200:1        200:1        200:2     200:2  200:2
POST   recommitments/{recommitment_id}/approve/   401       403   404         200    404          403          200       403    403
POST   recommitments/{recommitment_id}/reject/    401       403   404         200    404          403          200       403    403
GET    scores/                                    401       200:4 200:4       200:4  200:4        200:4        200:4     200:4  200:4
GET    supervision-items/                         401       403   403         200:1  200:1        200:1        200:2     200:2  200:2
GET    stats/disposal-methods/                    401       200   200         200    200          200          200       200    200
GET    stats/overview/                            401       200   200         200    200          200          200       200    200
GET    supervision-items/{item_id}/inspections/   401       403   403         200:1  404          200:1        200:1     200:1  200:1
POST   supervision-items/{item_id}/inspections/   401       403   403         403    404          403          403       201    403
POST   supervision-items/{item_id}/deadline/      401       403   403         403    404          403          403       200    403
POST   supervision-items/{item_id}/close/         401       403   403         403    404          403          403       200    403
"""
)

WRITES = sorted(key for key in ENDPOINTS if key[0] != "GET")
READS = sorted(key for key in ENDPOINTS if key[0] == "GET")
WITH_IDS = sorted(key for key in ENDPOINTS if path_params(key[1]))


def test_the_table_has_a_row_for_every_endpoint_and_no_other():
    assert sorted(TABLE) == ENDPOINTS
    assert sorted(BODIES) == sorted(path for _, path in WRITES)
    assert len(ENDPOINTS) == 21


def test_the_world_has_a_cover_leader_who_sees_fx001_and_decides_nothing_of_it(wt, frozen):
    # given
    w, _ = wt
    # when
    cover = w.users["leader_cover"]
    visible = set(Node.objects.visible_to(cover).values_list("pk", flat=True))
    # then
    assert visible == {
        w.node(key).pk for key in ("a_done", "a_red", "a_yellow", "a_pending", "a_open")
    }
    assert cover.role_assignments.get().unit.name == "县发展改革委"


@pytest.mark.parametrize("endpoint", READS, ids=lambda e: f"{e[0]} {e[1]}")
def test_every_read_answers_every_role_as_its_scope_says_and_changes_nothing(wt, frozen, endpoint):
    # given
    w, tokens = wt
    method, path = endpoint
    if endpoint not in TABLE:
        pytest.fail(f"{method} {path} has no row in TABLE")
    target = url(path, w)
    before = state()
    # when
    answers = {
        role: answer(call(Client(), method, target, tokens.get(role), None)) for role in ROLES
    }
    # then
    assert answers == TABLE[endpoint]
    assert state() == before


@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: f"{e[0]} {e[1]}")
def test_no_write_goes_through_outside_a_roles_scope(wt, frozen, endpoint):
    """Every role is answered exactly as the table says, and a refused write changes nothing;
    each role the table lets through does write (in a savepoint rolled back afterwards), so
    the refusals are not of a body that nobody could send."""
    # given
    w, tokens = wt
    method, path = endpoint
    if endpoint not in TABLE:
        pytest.fail(f"{method} {path} has no row in TABLE")
    target = url(path, w)
    answers = {}
    for role in ROLES:
        with transaction.atomic():
            before = state()
            # when
            response = call(Client(), method, target, tokens.get(role), BODIES[path])
            after = state()
            # then
            answers[role] = answer(response)
            if response.status_code in (200, 201):
                assert after != before, role
            else:
                assert after == before, role
            transaction.set_rollback(True)
    assert answers == TABLE[endpoint]


IN_SCOPE_OF_LAND = ("staff", "leader", "leader_cover")


@pytest.mark.parametrize("endpoint", WITH_IDS, ids=lambda e: f"{e[0]} {e[1]}")
def test_another_units_object_ids_answer_404_with_nothing_changed(wt, frozen, endpoint):
    """The land department's people, given the housing department's ids, are told nothing
    more than for an id that does not exist: the same 404 body, and nothing changed. (Unit
    staff may not use the priority list at all: 403 for any item id, existing or not.)"""
    # given
    w, tokens = wt
    method, path = endpoint
    target = url(path, w, "housing")
    missing = PREFIX + path.format(**dict.fromkeys(path_params(path), 987654))
    if "code" in path_params(path):
        missing = PREFIX + path.format(code="FX-999")
    before = state()
    for role in IN_SCOPE_OF_LAND:
        # when
        other = call(Client(), method, target, tokens[role], BODIES.get(path))
        nowhere = call(Client(), method, missing, tokens[role], BODIES.get(path))
        # then
        expected = 403 if role == "staff" and path.startswith("supervision-items/") else 404
        assert (role, other.status_code, other.json()) == (role, expected, nowhere.json())
        assert (role, nowhere.status_code) == (role, expected)
    assert state() == before


def test_the_other_units_ids_are_in_scope_of_their_own_people(wt, frozen):
    """The control of the test above: the housing ids are real, and its own leader reads them."""
    # given
    w, tokens = wt
    # when
    project = call(
        Client(), "GET", url("projects/{code}/", w, "housing"), tokens["leader_other"], None
    )
    inspections = call(
        Client(),
        "GET",
        url("supervision-items/{item_id}/inspections/", w, "housing"),
        tokens["leader_other"],
        None,
    )
    # then
    assert (project.status_code, project.json()["code"]) == (200, "FX-002")
    assert (inspections.status_code, inspections.json()["count"]) == (200, 1)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
def test_no_token_an_unknown_or_a_revoked_one_is_401_everywhere_with_nothing_changed(
    wt, frozen, endpoint
):
    # given: the office's token, revoked
    w, tokens = wt
    method, path = endpoint
    api_token_revoke(token=ApiToken.objects.get(user=w.users["office"]), actor=w.users["admin"])
    before = state()
    # when
    answers = {
        label: call(Client(), method, url(path, w), token, BODIES.get(path)).status_code
        for label, token in [
            ("none", None),
            ("unknown", "not-a-token"),
            ("overlong", "x" * 300),
            ("revoked", tokens["office"]),
        ]
    }
    # then
    assert answers == {"none": 401, "unknown": 401, "overlong": 401, "revoked": 401}
    assert state() == before
