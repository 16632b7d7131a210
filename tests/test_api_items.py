"""The priority supervision list through the API: inspections, the supervised deadline, closing."""

import pytest

from supervision.models import InspectionRecord, SupervisionItem
from tests.test_api_support import api_get, api_post, card_make, item_make, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]

ROLES = ["staff", "staff_other", "leader", "leader_other", "principal", "supervisor"]


@pytest.fixture
def item(world):
    card_make(world.node, "yellow")
    return item_make(card_make(world.node, "red"))


def inspections():
    return list(InspectionRecord.objects.values_list("id", "mode", "text"))


INSPECTION = {"mode": "offline", "inspected_on": "2026-11-22", "text": "现场督查：企业同意腾退"}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 401),
        ("staff", 403),
        ("staff_other", 403),
        ("leader", 403),
        ("leader_other", 404),
        ("principal", 403),
        ("supervisor", 201),
    ],
)
def test_inspection_permission_matrix(client, world, item, role, status):
    # given
    before = snapshot(), inspections()
    # when
    response = api_post(
        client, f"supervision-items/{item.pk}/inspections/", world.token(role), INSPECTION
    )
    # then
    assert response.status_code == status
    if status != 201:
        assert (snapshot(), inspections()) == before
        return
    body = response.json()
    assert {k: body[k] for k in ("item", "mode", "inspected_on", "text", "author")} == {
        "item": item.pk,
        "mode": "offline",
        "inspected_on": "2026-11-22",
        "text": "现场督查：企业同意腾退",
        "author": "supervisor",
    }
    listed = api_get(client, f"supervision-items/{item.pk}/inspections/", world.token("leader"))
    assert (listed.status_code, listed.json()["count"]) == (200, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**INSPECTION, "mode": "phone"}, "mode"),
        ({**INSPECTION, "text": "  "}, "text"),
        ({**INSPECTION, "inspected_on": "2026-11-24"}, "inspected_on"),
        ({**INSPECTION, "inspected_on": "2026/11/29"}, "inspected_on"),
    ],
)
def test_bad_inspection_is_400_and_changes_nothing(client, world, item, body, field):
    before = snapshot(), inspections()
    response = api_post(
        client, f"supervision-items/{item.pk}/inspections/", world.token("supervisor"), body
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert (snapshot(), inspections()) == before


def test_deadline_then_close_then_closed_is_a_conflict(client, world, item):
    token = world.token("supervisor")
    # when
    response = api_post(
        client,
        f"supervision-items/{item.pk}/deadline/",
        token,
        {"supervised_deadline": "2026-12-15"},
    )
    # then
    assert (response.status_code, response.json()["supervised_deadline"]) == (200, "2026-12-15")
    # when: closing needs a note
    refused = api_post(client, f"supervision-items/{item.pk}/close/", token, {"note": ""})
    assert refused.status_code == 400 and "note" in refused.json()["errors"]
    closed = api_post(client, f"supervision-items/{item.pk}/close/", token, {"note": "已完成腾退"})
    # then
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    item.refresh_from_db()
    assert (item.close_note, item.closed_by) == ("已完成腾退", world.users["supervisor"])
    before = snapshot(), inspections()
    again = api_post(client, f"supervision-items/{item.pk}/close/", token, {"note": "再次"})
    late = api_post(client, f"supervision-items/{item.pk}/inspections/", token, INSPECTION)
    assert (again.status_code, late.status_code) == (409, 409)
    assert (snapshot(), inspections()) == before


@pytest.mark.parametrize(
    ("role", "status"), [("leader", 403), ("principal", 403), ("staff", 403), ("leader_other", 404)]
)
def test_only_the_office_closes_or_sets_deadlines(client, world, item, role, status):
    before = snapshot()
    assert (
        api_post(
            client, f"supervision-items/{item.pk}/close/", world.token(role), {"note": "x"}
        ).status_code
        == status
    )
    assert (
        api_post(
            client,
            f"supervision-items/{item.pk}/deadline/",
            world.token(role),
            {"supervised_deadline": "2026-12-15"},
        ).status_code
        == status
    )
    assert snapshot() == before
    assert SupervisionItem.objects.get().supervised_deadline is None
