"""REST API: the whole node work method, told through the API alone (plus the sweep)."""

import pytest

from supervision.services import sweep_run
from tests.test_api_support import api_get, api_post, at, ids

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures


def score_of(client, token, unit_name: str) -> str:
    rows = api_get(client, "scores/", token, year=2026).json()["results"]
    return next(r["score"] for r in rows if r["unit"] == unit_name)


def test_yellow_recommit_approve_red_revoke_through_the_api(client, world, frozen):
    staff, leader = world.token("staff"), world.token("leader")
    office = world.token("supervisor")
    node = world.node  # due Friday 2026-11-20, not done

    # given: the sweep runs just after the breach instant
    frozen.move_to(at("2026-11-21 00:05"))
    assert score_of(client, office, "县自然资源局") == "100.00"
    sweep_run(as_of=at("2026-11-21 00:05"))

    # then: a yellow card, the node flagged yellow, one point off
    cards = api_get(client, "cards/", staff).json()
    assert cards["count"] == 1
    yellow = cards["results"][0]
    assert (yellow["node"], yellow["kind"], yellow["points"]) == (node.pk, "yellow", "1.00")
    assert yellow["breached_at"] == "2026-11-21T00:00:00+08:00"
    assert yellow["issued_at"] == "2026-11-21T00:05:00+08:00"
    assert ids(api_get(client, "nodes/", staff, card="yellow")) == [node.pk]
    assert score_of(client, office, "县自然资源局") == "99.00"

    # when: on Monday the unit explains and re-commits; the leader in charge approves
    frozen.move_to(at("2026-11-23 09:00"))
    submitted = api_post(
        client,
        f"nodes/{node.pk}/recommitments/",
        staff,
        {"reason": "权利人对补偿标准有异议，正在协商", "new_due_date": "2026-12-01"},
    )
    assert submitted.status_code == 201
    rec_id = submitted.json()["id"]
    assert ids(api_get(client, "recommitments/", leader, status="pending")) == [rec_id]
    frozen.move_to(at("2026-11-23 15:00"))
    approved = api_post(client, f"recommitments/{rec_id}/approve/", leader, {"comment": "同意"})

    # then: the committed date is set
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "leader"
    assert approved.json()["decided_at"] == "2026-11-23T15:00:00+08:00"
    row = api_get(client, "nodes/", staff).json()["results"][0]
    assert (row["committed_due_date"], row["card"]) == ("2026-12-01", "yellow")

    # when: the committed date passes and the node is still not done
    frozen.move_to(at("2026-12-02 00:10"))
    sweep_run(as_of=at("2026-12-02 00:10"))

    # then: a red card, two more points off, the node on the priority list
    reds = api_get(client, "cards/", office, kind="red").json()["results"]
    assert len(reds) == 1
    red = reds[0]
    assert (red["node"], red["points"], red["breached_at"]) == (
        node.pk,
        "2.00",
        "2026-12-02T00:00:00+08:00",
    )
    assert ids(api_get(client, "nodes/", staff, card="red")) == [node.pk]
    assert api_get(client, "nodes/", staff, card="yellow").json()["count"] == 0
    items = api_get(client, "supervision-items/", leader, status="open").json()["results"]
    assert [(i["node"], i["card"], i["status"], i["ready_to_close"]) for i in items] == [
        (node.pk, red["id"], "open", False)
    ]
    assert score_of(client, office, "县自然资源局") == "97.00"

    # when: the supervision office finds the red card wrong and revokes it
    revoked = api_post(client, f"cards/{red['id']}/revoke/", office, {"reason": "承诺日期录入错误"})

    # then: the red card is revoked, its points restored, the item closed, the node yellow again
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] == "2026-12-02T00:10:00+08:00"
    assert score_of(client, office, "县自然资源局") == "99.00"
    assert api_get(client, "supervision-items/", leader, status="open").json()["count"] == 0
    assert api_get(client, "supervision-items/", leader, status="closed").json()["count"] == 1
    assert ids(api_get(client, "nodes/", staff, card="yellow")) == [node.pk]
    assert api_get(client, "cards/", office).json()["count"] == 2
    # and the other unit was never touched
    assert score_of(client, office, "县住建局") == "100.00"
