"""REST API: recommitments, their decisions, cards, revocations and the supervision list."""

import datetime as dt

import pytest

from projects.models import Node
from scoring.models import PointsEntry
from supervision.models import Card, Recommitment, SupervisionItem
from tests.factories import NodeFactory
from tests.test_api_support import (
    NOW,
    api_get,
    api_post,
    at,
    card_make,
    card_mark_revoked,
    ids,
    item_make,
    recommitment_make,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

REASON = "征迁补偿协议尚未签订，权利人提出异议"


def submit(client, world, role="staff", **body):
    payload = {"reason": REASON, "new_due_date": "2026-12-10"} | body
    return api_post(client, f"nodes/{world.node.pk}/recommitments/", world.token(role), payload)


# ---------------------------------------------------------------- nodes/{id}/recommitments/


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("staff_other", 404),
        ("staff", 201),
        ("leader", 403),
        ("leader_other", 404),
        ("principal", 403),
        ("supervisor", 403),
    ],
)
def test_recommitment_submit_permissions(client, world, role, status):
    # given
    card_make(world.node, "yellow")
    before = snapshot()
    # when
    response = submit(client, world, role)
    # then
    assert response.status_code == status
    if status == 201:
        assert Recommitment.objects.get().status == "pending"
    else:
        assert snapshot() == before
    if status == 403:
        assert response.json() == {"detail": "只有责任单位的经办人可以提交重新承诺。"}


def test_recommitment_submit_answers_the_pending_recommitment(client, world):
    # given
    card_make(world.node, "yellow")
    # when
    response = submit(client, world)
    # then
    rec = Recommitment.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": rec.pk,
        "node": world.node.pk,
        "reason": REASON,
        "new_due_date": "2026-12-10",
        "status": "pending",
        "submitted_at": "2026-11-23T10:00:00+08:00",
        "decided_by": None,
        "decided_at": None,
        "comment": "",
    }
    assert rec.submitted_by == world.users["staff"]
    assert Node.objects.get(pk=world.node.pk).committed_due_date is None


@pytest.mark.parametrize(
    ("body", "errors", "detail"),
    [
        ({"reason": None}, {"reason": ["请填写文本。"]}, "请求参数有误。"),
        ({"reason": ""}, {"reason": ["请填写超期原因。"]}, None),
        ({"reason": "   "}, {"reason": ["请填写超期原因。"]}, None),
        ({"reason": "因" * 2001}, {"reason": ["超期原因不能超过2000字。"]}, None),
        (
            {"new_due_date": "2026-13-01"},
            {"new_due_date": ["日期格式应为 YYYY-MM-DD，且须是有效日期。"]},
            "请求参数有误。",
        ),
        (
            {"new_due_date": "2026/12/10"},
            {"new_due_date": ["日期格式应为 YYYY-MM-DD，且须是有效日期。"]},
            "请求参数有误。",
        ),
        (
            {"new_due_date": "2026-12-10T00:00:00+08:00"},
            {"new_due_date": ["日期格式应为 YYYY-MM-DD，且须是有效日期。"]},
            "请求参数有误。",
        ),
        (
            {"new_due_date": 1796400000},
            {"new_due_date": ["日期格式应为 YYYY-MM-DD，且须是有效日期。"]},
            "请求参数有误。",
        ),
        (
            {"new_due_date": None},
            {"new_due_date": ["日期格式应为 YYYY-MM-DD，且须是有效日期。"]},
            "请求参数有误。",
        ),
        ({"new_due_date": "2026-11-23"}, {"new_due_date": ["重新承诺完成时间须晚于今天。"]}, None),
        ({"new_due_date": "2026-11-01"}, {"new_due_date": ["重新承诺完成时间须晚于今天。"]}, None),
    ],
)
def test_recommitment_submit_bad_input_is_400_and_changes_nothing(
    client, world, body, errors, detail
):
    # given
    card_make(world.node, "yellow")
    before = snapshot()
    # when
    response = submit(client, world, **body)
    # then
    assert response.status_code == 400
    messages = [m for msgs in errors.values() for m in msgs]
    assert response.json() == {"detail": detail or "；".join(messages), "errors": errors}
    assert snapshot() == before


def test_recommitment_submit_missing_fields_are_400(client, world):
    # given
    card_make(world.node, "yellow")
    before = snapshot()
    # when
    response = api_post(client, f"nodes/{world.node.pk}/recommitments/", world.token("staff"), {})
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "请求参数有误。",
        "errors": {"reason": ["该字段为必填项。"], "new_due_date": ["该字段为必填项。"]},
    }
    assert snapshot() == before


def test_recommitment_on_a_node_without_a_yellow_card_is_409(client, world):
    # given
    before = snapshot()
    # when
    response = submit(client, world)
    # then
    assert response.status_code == 409
    assert response.json() == {
        "detail": "节点未被亮黄牌，无需重新承诺。",
        "code": "node_not_yellow",
    }
    assert snapshot() == before


def test_recommitment_on_a_revoked_yellow_card_is_409(client, world):
    # given
    card = card_make(world.node, "yellow")
    card_mark_revoked(card)
    # when
    response = submit(client, world)
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "node_not_yellow"
    assert Recommitment.objects.count() == 0


def test_a_second_pending_recommitment_is_409(client, world):
    # given
    card_make(world.node, "yellow")
    assert submit(client, world).status_code == 201
    before = snapshot()
    # when
    response = submit(client, world, new_due_date="2026-12-20")
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "该节点已有待审批的重新承诺。", "code": "already_pending"}
    assert snapshot() == before


# ---------------------------------------------------------------- recommitments/


@pytest.fixture
def pending(world):
    card_make(world.node, "yellow")
    return recommitment_make(world.node, world.users["staff"])


@pytest.mark.parametrize(
    ("role", "status", "sees"),
    [
        ("anonymous", 401, None),
        ("staff_other", 200, False),
        ("staff", 200, True),
        ("leader", 200, True),
        ("leader_other", 200, False),
        ("principal", 200, True),
        ("supervisor", 200, True),
    ],
)
def test_recommitments_list_permissions(client, world, pending, role, status, sees):
    # when
    response = api_get(client, "recommitments/", world.token(role))
    # then
    assert response.status_code == status
    if sees is not None:
        assert ids(response) == ([pending.pk] if sees else [])
        assert response.json()["count"] == (1 if sees else 0)


def test_recommitments_list_answers_every_field_and_filters_by_status(client, world, pending):
    # given: an older one, rejected by the leader
    rejected = recommitment_make(
        world.node,
        world.users["staff"],
        status="rejected",
        new_due_date=dt.date(2026, 12, 1),
        submitted_at=at("2026-11-21 09:00"),
        decided_by=world.users["leader"],
        decided_at=at("2026-11-22 09:00"),
        comment="理由不充分",
    )
    token = world.token("leader")
    # when
    every = api_get(client, "recommitments/", token)
    only_rejected = api_get(client, "recommitments/", token, status="rejected")
    only_approved = api_get(client, "recommitments/", token, status="approved")
    bad = api_get(client, "recommitments/", token, status="done")
    # then
    assert ids(every) == [pending.pk, rejected.pk]
    assert only_rejected.json() == {
        "count": 1,
        "next": None,
        "results": [
            {
                "id": rejected.pk,
                "node": world.node.pk,
                "reason": "征迁补偿协议尚未签订",
                "new_due_date": "2026-12-01",
                "status": "rejected",
                "decided_by": "leader",
                "comment": "理由不充分",
                "submitted_at": "2026-11-21T09:00:00+08:00",
                "decided_at": "2026-11-22T09:00:00+08:00",
            }
        ],
    }
    assert only_approved.json() == {"count": 0, "next": None, "results": []}
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": "请求参数有误。",
        "errors": {"status": ["取值无效，可选：pending、approved、rejected、lapsed。"]},
    }


def test_recommitments_list_query_count_is_bounded(client, world, django_assert_max_num_queries):
    # given: 30 nodes with a decided and a pending recommitment each
    for seq in range(2, 32):
        node = NodeFactory(project=world.project, seq=seq, unit=world.unit)
        recommitment_make(
            node,
            world.users["staff"],
            status="approved",
            decided_by=world.users["leader"],
            decided_at=NOW,
            submitted_at=NOW - dt.timedelta(days=1),
        )
        recommitment_make(node, world.users["staff"])
    api_get(client, "recommitments/", world.token("leader"))
    # when
    with django_assert_max_num_queries(4):
        response = api_get(client, "recommitments/", world.token("leader"), limit=500)
    # then
    assert response.json()["count"] == 60
    assert sum(1 for r in response.json()["results"] if r["decided_by"] == "leader") == 30


# ---------------------------------------------------------------- approve / reject


DECIDE_MATRIX = [
    ("anonymous", 401),
    ("staff_other", 404),
    ("staff", 403),
    ("leader", 200),
    ("leader_other", 404),
    ("principal", 200),
    ("supervisor", 403),
]


@pytest.mark.parametrize(("role", "status"), DECIDE_MATRIX)
def test_approve_permissions(client, world, pending, role, status):
    # given
    before = snapshot()
    # when
    response = api_post(
        client, f"recommitments/{pending.pk}/approve/", world.token(role), {"comment": "同意"}
    )
    # then
    assert response.status_code == status
    if status == 200:
        pending.refresh_from_db()
        assert (pending.status, pending.decided_by) == ("approved", world.users[role])
        assert Node.objects.get(pk=world.node.pk).committed_due_date == dt.date(2026, 12, 10)
    else:
        assert snapshot() == before
    if status == 403:
        assert response.json() == {"detail": "只有该单位的分管领导或主要领导可以审批。"}


def test_approve_answers_the_recommitment_and_sets_the_committed_date(client, world, pending):
    # when: no body at all, no comment needed to approve
    response = api_post(
        client, f"recommitments/{pending.pk}/approve/", world.token("leader"), raw=""
    )
    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": pending.pk,
        "node": world.node.pk,
        "reason": "征迁补偿协议尚未签订",
        "new_due_date": "2026-12-10",
        "status": "approved",
        "decided_by": "leader",
        "comment": "",
        "submitted_at": "2026-11-23T10:00:00+08:00",
        "decided_at": "2026-11-23T10:00:00+08:00",
    }
    node = Node.objects.get(pk=world.node.pk)
    assert node.committed_due_date == dt.date(2026, 12, 10)
    assert node.history.order_by("-history_id").first().history_user == world.users["leader"]


@pytest.mark.parametrize(("role", "status"), DECIDE_MATRIX)
def test_reject_permissions(client, world, pending, role, status):
    # given
    before = snapshot()
    # when
    response = api_post(
        client, f"recommitments/{pending.pk}/reject/", world.token(role), {"comment": "理由不充分"}
    )
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["status"] == "rejected"
        assert response.json()["comment"] == "理由不充分"
        assert response.json()["decided_by"] == role
        assert Node.objects.get(pk=world.node.pk).committed_due_date is None
    else:
        assert snapshot() == before


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "  "}, None])
def test_reject_without_a_comment_is_400_and_changes_nothing(client, world, pending, body):
    # given
    before = snapshot()
    # when
    if body is None:
        response = api_post(
            client, f"recommitments/{pending.pk}/reject/", world.token("leader"), raw=""
        )
    else:
        response = api_post(
            client, f"recommitments/{pending.pk}/reject/", world.token("leader"), body
        )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "驳回时须填写审批意见。",
        "errors": {"comment": ["驳回时须填写审批意见。"]},
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    ("first", "second"), [("approve", "approve"), ("approve", "reject"), ("reject", "approve")]
)
def test_deciding_twice_is_409_and_keeps_the_first_decision(client, world, pending, first, second):
    # given
    assert (
        api_post(
            client, f"recommitments/{pending.pk}/{first}/", world.token("leader"), {"comment": "一"}
        ).status_code
        == 200
    )
    before = snapshot()
    # when
    response = api_post(
        client, f"recommitments/{pending.pk}/{second}/", world.token("principal"), {"comment": "二"}
    )
    # then
    assert response.status_code == 409
    assert response.json() == {
        "detail": "该重新承诺已经审批或已失效，不能再次审批。",
        "code": "already_decided",
    }
    assert snapshot() == before


def test_approving_a_date_already_passed_is_409(client, world):
    # given: submitted last week for a date that is now behind us
    card_make(world.node, "yellow")
    rec = recommitment_make(
        world.node,
        world.users["staff"],
        new_due_date=dt.date(2026, 11, 22),
        submitted_at=at("2026-11-21 09:00"),
    )
    before = snapshot()
    # when
    response = api_post(client, f"recommitments/{rec.pk}/approve/", world.token("leader"), {})
    # then
    assert response.status_code == 409
    assert response.json() == {
        "detail": "承诺完成时间已过，不能批准，请驳回后由单位重新提交。",
        "code": "date_passed",
    }
    assert snapshot() == before


def test_decide_on_an_unknown_recommitment_is_404(client, world):
    # when
    response = api_post(client, "recommitments/999999/approve/", world.token("principal"), {})
    # then
    assert response.status_code == 404


# ---------------------------------------------------------------- cards/


@pytest.fixture
def cards(world):
    yellow = card_make(world.node, "yellow")
    other = card_make(world.other_node, "yellow", breached_at=at("2026-11-22 00:00"))
    return yellow, other


@pytest.mark.parametrize(
    ("role", "status", "sees"),
    [
        ("anonymous", 401, None),
        ("staff_other", 200, ["other"]),
        ("staff", 200, ["yellow"]),
        ("leader", 200, ["yellow"]),
        ("leader_other", 200, ["other"]),
        ("principal", 200, ["other", "yellow"]),
        ("supervisor", 200, ["other", "yellow"]),
    ],
)
def test_cards_list_permissions(client, world, cards, role, status, sees):
    # given
    named = {"yellow": cards[0].pk, "other": cards[1].pk}
    # when
    response = api_get(client, "cards/", world.token(role))
    # then
    assert response.status_code == status
    if sees is not None:
        assert ids(response) == [named[name] for name in sees]


def test_cards_list_answers_every_field_and_filters(client, world, cards):
    # given: the node also got a red card, later revoked
    yellow, other = cards
    red = card_make(world.node, "red", breached_at=at("2026-11-26 00:00"))
    card_mark_revoked(red, by=world.users["supervisor"])
    token = world.token("supervisor")
    # when
    every = api_get(client, "cards/", token)
    reds = api_get(client, "cards/", token, kind="red")
    of_project = api_get(client, "cards/", token, project="FX-002")
    of_unit = api_get(client, "cards/", token, unit="县自然资源局")
    bad = api_get(client, "cards/", token, kind="blue")
    # then
    assert ids(every) == [red.pk, other.pk, yellow.pk]
    assert reds.json() == {
        "count": 1,
        "next": None,
        "results": [
            {
                "id": red.pk,
                "node": world.node.pk,
                "project": "FX-001",
                "unit": "县自然资源局",
                "kind": "red",
                "breached_at": "2026-11-26T00:00:00+08:00",
                "issued_at": "2026-11-26T00:00:00+08:00",
                "points": "2.00",
                "revoked_at": "2026-11-23T10:00:00+08:00",
            }
        ],
    }
    assert ids(of_project) == [other.pk]
    assert ids(of_unit) == [red.pk, yellow.pk]
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"kind": ["取值无效，可选：yellow、red。"]}


def test_cards_list_query_count_is_bounded(client, world, django_assert_max_num_queries):
    # given
    for seq in range(2, 32):
        card_make(NodeFactory(project=world.project, seq=seq, unit=world.unit), "yellow")
    api_get(client, "cards/", world.token("leader"))
    # when
    with django_assert_max_num_queries(4):
        response = api_get(client, "cards/", world.token("leader"), limit=500)
    # then
    assert response.json()["count"] == 30
    assert {c["project"] for c in response.json()["results"]} == {"FX-001"}


# ---------------------------------------------------------------- cards/{id}/revoke/


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("staff_other", 404),
        ("staff", 403),
        ("leader", 403),
        ("leader_other", 404),
        ("principal", 403),
        ("supervisor", 200),
    ],
)
def test_revoke_permissions(client, world, role, status):
    # given
    card = card_make(world.node, "yellow")
    before = snapshot()
    # when
    response = api_post(
        client, f"cards/{card.pk}/revoke/", world.token(role), {"reason": "节点时间录入错误"}
    )
    # then
    assert response.status_code == status
    if status == 200:
        card.refresh_from_db()
        assert (card.revoked_by, card.revoke_reason) == (
            world.users["supervisor"],
            "节点时间录入错误",
        )
    else:
        assert snapshot() == before
    if status == 403:
        assert response.json() == {"detail": "只有督查办可以撤销亮牌。"}


def test_revoke_answers_the_card_and_restores_the_points(client, world):
    # given
    card = card_make(world.node, "yellow")
    # when
    response = api_post(
        client,
        f"cards/{card.pk}/revoke/",
        world.token("supervisor"),
        {"reason": "节点时间录入错误"},
    )
    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": card.pk,
        "node": world.node.pk,
        "project": "FX-001",
        "unit": "县自然资源局",
        "kind": "yellow",
        "breached_at": "2026-11-21T00:00:00+08:00",
        "issued_at": "2026-11-21T00:00:00+08:00",
        "points": "1.00",
        "revoked_at": "2026-11-23T10:00:00+08:00",
    }
    card.refresh_from_db()
    assert sorted(
        PointsEntry.objects.filter(pk__in=[card.deduction_id, card.reversal_id]).values_list(
            "kind", "points"
        )
    ) == [
        ("card_deduction", -1),
        ("card_reversal", 1),
    ]


def test_revoking_twice_is_409(client, world):
    # given
    card = card_make(world.node, "yellow")
    api_post(client, f"cards/{card.pk}/revoke/", world.token("supervisor"), {"reason": "错误"})
    before = snapshot()
    # when
    response = api_post(
        client, f"cards/{card.pk}/revoke/", world.token("supervisor"), {"reason": "再次"}
    )
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "该亮牌已被撤销。", "code": "already_revoked"}
    assert snapshot() == before


def test_revoking_a_yellow_card_under_a_red_one_is_409(client, world):
    # given
    yellow = card_make(world.node, "yellow")
    card_make(world.node, "red")
    before = snapshot()
    # when
    response = api_post(
        client, f"cards/{yellow.pk}/revoke/", world.token("supervisor"), {"reason": "错误"}
    )
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "该节点还有红牌，请先撤销红牌。", "code": "red_first"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "errors", "detail"),
    [
        ({}, {"reason": ["该字段为必填项。"]}, "请求参数有误。"),
        ({"reason": ""}, {"reason": ["请填写撤销理由。"]}, None),
        ({"reason": "理" * 2001}, {"reason": ["撤销理由不能超过2000字。"]}, None),
    ],
)
def test_revoke_bad_reason_is_400_and_changes_nothing(client, world, body, errors, detail):
    # given
    card = card_make(world.node, "yellow")
    before = snapshot()
    # when
    response = api_post(client, f"cards/{card.pk}/revoke/", world.token("supervisor"), body)
    # then
    assert response.status_code == 400
    messages = [m for msgs in errors.values() for m in msgs]
    assert response.json() == {"detail": detail or "；".join(messages), "errors": errors}
    assert snapshot() == before


# ---------------------------------------------------------------- supervision-items/


@pytest.fixture
def items(world):
    card_make(world.node, "yellow")
    mine = item_make(card_make(world.node, "red", breached_at=at("2026-11-22 00:00")))
    card_make(world.other_node, "yellow")
    other = item_make(card_make(world.other_node, "red", breached_at=at("2026-11-21 00:00")))
    return mine, other


@pytest.mark.parametrize(
    ("role", "status", "sees"),
    [
        ("anonymous", 401, None),
        ("staff_other", 403, None),
        ("staff", 403, None),
        ("leader", 200, ["mine"]),
        ("leader_other", 200, ["other"]),
        ("principal", 200, ["mine", "other"]),
        ("supervisor", 200, ["mine", "other"]),
    ],
)
def test_supervision_items_permissions(client, world, items, role, status, sees):
    # given
    named = {"mine": items[0].pk, "other": items[1].pk}
    # when
    response = api_get(client, "supervision-items/", world.token(role))
    # then
    assert response.status_code == status
    if sees is not None:
        assert ids(response) == [named[name] for name in sees]
    if status == 403:
        assert response.json() == {"detail": "只有领导和督查办可以查看重点督办事项。"}


def test_supervision_items_answer_every_field_and_filter_by_status(client, world, items):
    # given: the node is done (ready to close); the other item was closed
    mine, other = items
    assert (
        api_post(client, f"nodes/{world.node.pk}/complete/", world.token("staff"), {}).status_code
        == 200
    )
    other.status, other.closed_at, other.close_note = "closed", NOW, "已办结销号"
    other.supervised_deadline = dt.date(2026, 12, 5)
    other.save()
    token = world.token("supervisor")
    # when
    open_items = api_get(client, "supervision-items/", token, status="open")
    closed = api_get(client, "supervision-items/", token, status="closed")
    bad = api_get(client, "supervision-items/", token, status="done")
    # then
    assert open_items.json() == {
        "count": 1,
        "next": None,
        "results": [
            {
                "id": mine.pk,
                "node": world.node.pk,
                "project": "FX-001",
                "unit": "县自然资源局",
                "card": mine.card_id,
                "opened_at": "2026-11-22T00:00:00+08:00",
                "status": "open",
                "supervised_deadline": None,
                "ready_to_close": True,
            }
        ],
    }
    assert closed.json()["results"][0] == {
        "id": other.pk,
        "node": world.other_node.pk,
        "project": "FX-002",
        "unit": "县住建局",
        "card": other.card_id,
        "opened_at": "2026-11-21T00:00:00+08:00",
        "status": "closed",
        "supervised_deadline": "2026-12-05",
        "ready_to_close": False,
    }
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"status": ["取值无效，可选：open、closed。"]}


def test_supervision_items_query_count_is_bounded(client, world, django_assert_max_num_queries):
    # given
    for seq in range(2, 32):
        node = NodeFactory(project=world.project, seq=seq, unit=world.unit)
        card_make(node, "yellow")
        item_make(card_make(node, "red"))
    api_get(client, "supervision-items/", world.token("leader"))
    # when
    with django_assert_max_num_queries(4):
        response = api_get(client, "supervision-items/", world.token("leader"), limit=500)
    # then
    assert response.json()["count"] == 30
    assert SupervisionItem.objects.count() == Card.objects.filter(kind="red").count() == 30
