"""Hostile input gets 400, never 500, and changes nothing (run on PostgreSQL too)."""

import pytest

from tests.test_api_support import api_get, api_post, card_make, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]


@pytest.mark.parametrize("path", ["nodes/", "cards/", "recommitments/", "projects/"])
def test_a_huge_offset_is_a_400(client, world, path):
    response = api_get(client, path, world.token("supervisor"), offset=10**20)
    assert response.status_code == 400
    assert "offset" in response.json()["errors"]


@pytest.mark.parametrize(
    "path", ["projects/%00/", "nodes/?project=a%00", "cards/?unit=a%00", "nodes/?card=yel%00low"]
)
def test_nul_in_the_path_or_query_is_a_400(client, world, path):
    response = client.get(
        f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {world.token('supervisor')}"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "请求中含有非法字符。"


def test_nul_in_a_body_is_a_400_and_changes_nothing(client, world):
    card_make(world.node, "yellow")
    before = snapshot()
    for path, body in [
        (f"nodes/{world.node.pk}/progress/", {"percent": 10, "note": "a\x00b"}),
        (
            f"nodes/{world.node.pk}/recommitments/",
            {"reason": "x\x00", "new_due_date": "2026-12-20"},
        ),
    ]:
        response = api_post(client, path, world.token("staff"), body)
        assert response.status_code == 400, path
    assert snapshot() == before


def test_nul_in_a_page_query_is_a_400(client, world):
    client.force_login(world.users["staff"])
    assert client.get("/?q=%00").status_code == 400
