"""REST API: bearer tokens, the token command, the OpenAPI document and the docs page."""

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from organization.models import ApiToken
from organization.services import api_token_revoke
from organization.tokens import api_token_authenticate, api_token_create
from tests.factories import make_user
from tests.test_api_support import NOW, api_get, api_post, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

NO_TOKEN = "未提供身份令牌：请在请求头中使用 Authorization: Bearer <令牌>。"
BAD_TOKEN = "令牌无效、已吊销，或其用户已停用。"

ENDPOINTS = [
    ("get", "projects/"),
    ("get", "projects/FX-001/"),
    ("get", "nodes/"),
    ("post", "nodes/{node}/progress/"),
    ("post", "nodes/{node}/complete/"),
    ("post", "nodes/{node}/recommitments/"),
    ("get", "recommitments/"),
    ("post", "recommitments/1/approve/"),
    ("post", "recommitments/1/reject/"),
    ("get", "cards/"),
    ("post", "cards/1/revoke/"),
    ("get", "supervision-items/"),
    ("get", "supervision-items/1/inspections/"),
    ("post", "supervision-items/1/inspections/"),
    ("post", "supervision-items/1/deadline/"),
    ("post", "supervision-items/1/close/"),
    ("get", "scores/"),
    ("get", "stats/disposal-methods/"),
    ("get", "stats/overview/"),
    ("get", "bulletins/"),
    ("get", "bulletins/1/"),
]


def call(client, world, method, path, token):
    path = path.format(node=world.node.pk)
    if method == "get":
        return api_get(client, path, token)
    return api_post(client, path, token, {"percent": 10, "note": "x", "reason": "x"})


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_without_a_token_is_401_json(client, world, method, path):
    # given
    before = snapshot()
    # when
    response = call(client, world, method, path, None)
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NO_TOKEN}
    assert response["WWW-Authenticate"] == "Bearer"
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_with_a_wrong_token_is_401(client, world, method, path):
    # given
    before = snapshot()
    # when
    response = call(client, world, method, path, "not-a-token")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}
    assert snapshot() == before


def test_a_revoked_token_is_401(client, world):
    # given
    token = ApiToken.objects.get(digest=ApiToken.hash(world.token("staff")))
    api_token_revoke(token=token, actor=None)
    # when
    response = api_get(client, "nodes/", world.token("staff"))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}


def test_the_token_of_an_inactive_user_is_401(client, world):
    # given
    user = world.users["staff"]
    user.is_active = False
    user.save()
    # when
    response = api_get(client, "nodes/", world.token("staff"))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}


@pytest.mark.parametrize(
    "header", ["Token {token}", "Basic {token}", "{token}", "Bearer", "Bearer  "]
)
def test_other_authorization_schemes_are_401(client, world, header):
    # when
    response = client.get(
        "/api/v1/nodes/", HTTP_AUTHORIZATION=header.format(token=world.token("staff"))
    )
    # then
    assert response.status_code == 401
    assert response.json()["detail"] in {NO_TOKEN, BAD_TOKEN}


def test_a_browser_session_does_not_open_the_api_and_is_not_redirected(client, world):
    # given
    client.force_login(world.users["staff"])
    # when
    response = client.get("/api/v1/nodes/")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NO_TOKEN}


def test_a_valid_token_answers_and_records_its_use_once_a_minute(client, world, frozen):
    # given
    token = ApiToken.objects.get(digest=ApiToken.hash(world.token("staff")))
    assert token.last_used_at is None
    # when
    first = api_get(client, "nodes/", world.token("staff"))
    # then
    assert first.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == NOW

    # when: again 30 seconds later, then 61 seconds after the first use
    frozen.shift(dt.timedelta(seconds=30))
    api_get(client, "nodes/", world.token("staff"))
    token.refresh_from_db()
    used_30s = token.last_used_at
    frozen.shift(dt.timedelta(seconds=31))
    api_get(client, "nodes/", world.token("staff"))
    token.refresh_from_db()
    # then
    assert used_30s == NOW
    assert token.last_used_at == NOW + dt.timedelta(seconds=61)


def test_bearer_posts_need_no_csrf_token(world):
    # given: a client that enforces CSRF like a real browser would
    client = Client(enforce_csrf_checks=True)
    # when
    response = api_post(
        client, f"nodes/{world.node.pk}/progress/", world.token("staff"), {"percent": 30}
    )
    # then
    assert response.status_code == 201


def test_tokens_are_stored_as_digests_only(world):
    # given
    user = world.users["staff"]
    # when
    raw = api_token_create(user=user)
    # then
    token = ApiToken.objects.get(digest=ApiToken.hash(raw))
    assert token.user == user
    assert token.prefix == raw[:8]
    assert len(token.digest) == 64
    assert raw not in token.digest
    assert api_token_authenticate(raw) == user
    assert api_token_authenticate("") is None
    assert api_token_authenticate("x" * 500) is None


def test_create_api_token_prints_a_working_token_on_its_last_line(client, world):
    # given
    user = make_user("supervisor", username="office")
    out, err = io.StringIO(), io.StringIO()
    # when
    call_command("create_api_token", "office", stdout=out, stderr=err)
    # then
    raw = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", raw)
    assert ApiToken.objects.filter(user=user).count() == 1
    assert ApiToken.objects.get(user=user).digest == ApiToken.hash(raw)
    assert "不会再次显示" in err.getvalue()
    assert api_get(client, "scores/", raw).status_code == 200


def test_create_api_token_for_an_unknown_user_fails_in_chinese_with_exit_1(db):
    # when
    with pytest.raises(CommandError) as error:
        call_command("create_api_token", "ghost")
    # then: manage.py prints the message and exits with the error's return code
    assert str(error.value) == "未找到用户 ghost。请核对用户名。"
    assert error.value.returncode == 1
    assert ApiToken.objects.count() == 0


EXPECTED_PATHS = {
    "/api/v1/projects/": {"get"},
    "/api/v1/projects/{code}/": {"get"},
    "/api/v1/nodes/": {"get"},
    "/api/v1/nodes/{node_id}/progress/": {"post"},
    "/api/v1/nodes/{node_id}/complete/": {"post"},
    "/api/v1/nodes/{node_id}/recommitments/": {"post"},
    "/api/v1/recommitments/": {"get"},
    "/api/v1/recommitments/{recommitment_id}/approve/": {"post"},
    "/api/v1/recommitments/{recommitment_id}/reject/": {"post"},
    "/api/v1/cards/": {"get"},
    "/api/v1/cards/{card_id}/revoke/": {"post"},
    "/api/v1/supervision-items/": {"get"},
    "/api/v1/supervision-items/{item_id}/inspections/": {"get", "post"},
    "/api/v1/supervision-items/{item_id}/deadline/": {"post"},
    "/api/v1/supervision-items/{item_id}/close/": {"post"},
    "/api/v1/scores/": {"get"},
    "/api/v1/stats/disposal-methods/": {"get"},
    "/api/v1/stats/overview/": {"get"},
    "/api/v1/bulletins/": {"get"},
    "/api/v1/bulletins/{bulletin_id}/": {"get"},
}


def _refs(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "$ref":
                yield inner
            else:
                yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def test_openapi_document_is_valid_and_lists_every_path(client, db):
    # when: no token needed to read the description of the API
    response = client.get("/api/v1/openapi.json")
    # then
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "NodeTrack API"
    assert doc["info"]["version"] == "1"
    assert {path: set(ops) for path, ops in doc["paths"].items()} == EXPECTED_PATHS
    assert doc["components"]["securitySchemes"] == {
        "BearerToken": {"type": "http", "scheme": "bearer"}
    }
    operation_ids = []
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["security"] == [{"BearerToken": []}]
            assert "401" in op["responses"]
            operation_ids.append(op["operationId"])
    assert len(operation_ids) == len(set(operation_ids)) == 21
    for ref in set(_refs(doc)):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def test_docs_page_uses_local_static_files_only(client, db):
    # when
    response = client.get("/api/v1/docs")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "NodeTrack API" in html
    assert "/api/v1/openapi.json" in html
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    links = re.findall(r'<link[^>]*\bhref="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert scripts and all(src.startswith("/static/") for src in scripts + links)
    assert "cdn" not in html.lower()
    assert "http://" not in html and "https://" not in html


def test_docs_static_files_are_served_without_login(client, db):
    # when
    response = client.get("/static/ninja/swagger-ui-bundle.js")
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/docs", "/api/v1/openapi.json"])
def test_nothing_under_the_api_redirects_to_the_login_page(client, db, path):
    # when
    response = client.get(path)
    # then
    assert response.status_code in {200, 404}
    assert "Location" not in response


def test_no_two_schemas_of_the_api_share_a_name():
    """The OpenAPI document keys its components by class name: a second schema of the same
    name would silently describe the first one's answers."""
    from ninja import Schema

    import nodetrack.api  # noqa: F401  (every router, so every schema, is imported)

    def ours(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in {
                "core",
                "organization",
                "projects",
                "scoring",
                "supervision",
                "reports",
            }:
                yield sub
            yield from ours(sub)

    names = [cls.__name__ for cls in set(ours(Schema))]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
