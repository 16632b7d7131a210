"""The API's contract under hostile input: text no database can store answers 400, every
error is JSON (malformed ids, wrong methods, no route), a 400 always carries `errors`,
the OpenAPI document carries the bounds, and a `null` body is no body where one is optional."""

import pytest

from projects.models import Node
from tests.test_api_support import (
    api_post,
    card_make,
    item_make,
    recommitment_make,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]

UNSTORABLE = "不能包含空字符或无效的 Unicode 字符（如单独的代理项）。"
# A lone high surrogate, escaped as JSON allows: json.loads gives "x\ud800y".
SURROGATE = "x\\ud800y"


def _post_raw(client, path, token, raw):
    return client.post(
        f"/api/v1/{path}",
        raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.fixture
def targets(world):
    """One object for every write endpoint: a yellow-carded node with a pending
    recommitment, and a red card on the other node with its supervision item."""
    card_make(world.node, "yellow")
    rec = recommitment_make(world.node, world.users["staff"])
    red = card_make(world.other_node, "red")
    item = item_make(red)
    return {"rec": rec, "red": red, "item": item}


WRITES = [
    # (role, path template, body with SURROGATE where a text goes, the field it lands in)
    ("staff", "nodes/{node}/progress/", '{"percent": 10, "note": "%s"}', "note"),
    ("staff", "nodes/{node}/complete/", '{"note": "%s"}', "note"),
    (
        "staff",
        "nodes/{node}/recommitments/",
        '{"reason": "%s", "new_due_date": "2026-12-20"}',
        "reason",
    ),
    ("leader", "recommitments/{rec}/approve/", '{"comment": "%s"}', "comment"),
    ("leader", "recommitments/{rec}/reject/", '{"comment": "%s"}', "comment"),
    ("supervisor", "cards/{red}/revoke/", '{"reason": "%s"}', "reason"),
    (
        "supervisor",
        "supervision-items/{item}/inspections/",
        '{"mode": "online", "inspected_on": "2026-11-23", "text": "%s"}',
        "text",
    ),
    ("supervisor", "supervision-items/{item}/deadline/", '{"supervised_deadline": "%s"}', None),
    ("supervisor", "supervision-items/{item}/close/", '{"note": "%s"}', "note"),
]


def _path(template, world, targets):
    return template.format(
        node=world.node.pk,
        rec=targets["rec"].pk,
        red=targets["red"].pk,
        item=targets["item"].pk,
    )


@pytest.mark.parametrize(("role", "template", "body", "field"), WRITES)
def test_a_lone_surrogate_in_any_text_field_is_a_400_and_changes_nothing(
    client, world, targets, role, template, body, field
):
    """A lone UTF-16 surrogate is valid JSON but no database can encode it: 400, not 500."""
    # given
    before = snapshot()
    # when
    response = _post_raw(
        client, _path(template, world, targets), world.token(role), body % SURROGATE
    )
    # then
    assert response.status_code == 400
    answer = response.json()
    assert answer["detail"] == "请求参数有误。"
    assert answer["errors"] == {(field or "supervised_deadline"): [UNSTORABLE]}
    assert snapshot() == before


@pytest.mark.parametrize("template", [w[1] for w in WRITES])
def test_a_lone_surrogate_in_a_key_is_a_400_named_readably(client, world, targets, template):
    # given
    role = next(w[0] for w in WRITES if w[1] == template)
    before = snapshot()
    # when
    response = _post_raw(
        client, _path(template, world, targets), world.token(role), '{"a\\udc00": "b"}'
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"a\\udc00": [UNSTORABLE]}
    assert snapshot() == before


def test_a_surrogate_deep_in_the_body_is_named_by_its_path(client, world):
    # given
    before = snapshot()
    # when
    response = _post_raw(
        client,
        f"nodes/{world.node.pk}/progress/",
        world.token("staff"),
        '{"percent": 10, "extra": [{"x": "ok"}, {"y": "\\udfff"}]}',
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"extra.1.y": [UNSTORABLE]}
    assert snapshot() == before


def test_a_page_form_cannot_carry_a_lone_surrogate(client, world):
    """Form posts are decoded by Django with replacement characters: the bytes a surrogate
    would need (CESU-8 ED A0 80) arrive as U+FFFD, which any database stores."""
    # given
    client.force_login(world.users["staff"])
    # when
    response = client.post(
        f"/nodes/{world.node.pk}/progress/",
        b"percent=10&note=x%ED%A0%80y",
        content_type="application/x-www-form-urlencoded",
    )
    # then
    assert response.status_code == 302
    assert world.node.progress_reports.get().note == "x\ufffd\ufffd\ufffdy"


@pytest.mark.parametrize(
    "path",
    [
        "nodes/abc/",
        "nodes/abc/progress/",
        "nodes/1.5/complete/",
        "recommitments/x/approve/",
        "cards/-1/revoke/",
        "supervision-items/%E4%B8%AD/close/",
        "no-such-endpoint/",
    ],
)
def test_a_malformed_id_or_unknown_path_answers_404_json(client, world, path):
    # given
    before = snapshot()
    # when
    response = _post_raw(client, path, world.token("supervisor"), "{}")
    got = client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {world.token('supervisor')}")
    # then
    for answer in (response, got):
        assert answer.status_code == 404
        assert answer["Content-Type"] == "application/json"
        assert answer.json() == {"detail": "对象不存在，或不在您的查看范围内。"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "nodes/{node}/progress/", "POST"),
        ("put", "nodes/{node}/complete/", "POST"),
        ("delete", "nodes/", "GET"),
        ("patch", "cards/", "GET"),
        ("post", "scores/", "GET"),
    ],
)
def test_a_wrong_method_answers_405_json_with_allow(client, world, method, path, allowed):
    # given
    before = snapshot()
    # when
    response = getattr(client, method)(
        f"/api/v1/{path.format(node=world.node.pk)}",
        HTTP_AUTHORIZATION=f"Bearer {world.token('staff')}",
    )
    # then
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allowed
    assert response.json() == {"detail": f"该地址不接受 {method.upper()} 请求，可用：{allowed}。"}
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '"text"',
        '{"percent": 101}',
        '{"percent": "x"}',
        '{"note": "a\\u0000"}',
    ],
)
def test_every_400_body_has_errors(client, world, raw):
    # when
    response = _post_raw(client, f"nodes/{world.node.pk}/progress/", world.token("staff"), raw)
    # then
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    assert response.json()["errors"]


def test_a_nul_in_the_query_answers_400_with_errors(client, world):
    # when
    response = client.get(
        "/api/v1/nodes/?project=a%00", HTTP_AUTHORIZATION=f"Bearer {world.token('staff')}"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "请求中含有非法字符。",
        "errors": {"__all__": ["请求中含有非法字符。"]},
    }


def test_the_schemas_carry_their_bounds(client, world):
    # when
    doc = client.get("/api/v1/openapi.json").json()
    # then
    schemas = doc["components"]["schemas"]
    assert schemas["ProgressIn"]["properties"]["percent"] == {
        "maximum": 100,
        "minimum": 0,
        "title": "Percent",
        "type": "integer",
    }
    assert schemas["ProgressOut"]["properties"]["percent"]["maximum"] == 100
    assert schemas["ProgressIn"]["properties"]["note"]["maxLength"] == 2000
    assert schemas["RecommitmentIn"]["properties"]["reason"]["maxLength"] == 2000
    assert schemas["InspectionIn"]["properties"]["text"]["maxLength"] == 5000


def test_the_percent_bound_keeps_the_service_message(client, world):
    # given
    before = snapshot()
    # when
    response = api_post(
        client, f"nodes/{world.node.pk}/progress/", world.token("staff"), {"percent": 101}
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"percent": ["进度须为0到100之间的整数。"]}
    assert snapshot() == before


def test_a_null_body_completes_where_the_body_is_optional(client, world):
    # when
    response = _post_raw(client, f"nodes/{world.node.pk}/complete/", world.token("staff"), "null")
    # then
    assert response.status_code == 200
    assert Node.objects.get(pk=world.node.pk).completed_at is not None


@pytest.mark.parametrize(("action", "status"), [("approve", "approved")])
def test_a_null_body_decides_where_the_body_is_optional(client, world, targets, action, status):
    # when
    response = _post_raw(
        client, f"recommitments/{targets['rec'].pk}/{action}/", world.token("leader"), "null"
    )
    # then
    assert response.status_code == 200
    assert response.json()["status"] == status
    assert response.json()["comment"] == ""


def test_a_null_body_where_one_is_required_is_a_400_and_changes_nothing(client, world):
    # given
    before = snapshot()
    # when
    response = _post_raw(client, f"nodes/{world.node.pk}/progress/", world.token("staff"), "null")
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"__all__": ["请求体须是有效的 JSON 对象。"]}
    assert snapshot() == before


def test_a_null_reject_asks_for_the_comment(client, world, targets):
    # given
    before = snapshot()
    # when
    response = _post_raw(
        client, f"recommitments/{targets['rec'].pk}/reject/", world.token("leader"), "null"
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"comment": ["驳回时须填写审批意见。"]}
    assert snapshot() == before


def test_pages_keep_their_html_404(client, world):
    # given
    client.force_login(world.users["staff"])
    # when
    response = client.get("/nodes/abc/")
    # then
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
