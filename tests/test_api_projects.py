"""REST API: projects, nodes, progress reports and completion."""

import datetime as dt
from decimal import Decimal

import pytest

from projects.models import Node, ProgressReport
from tests.factories import DisposalLineFactory, NodeFactory, ProjectFactory
from tests.test_api_support import (
    NOW,
    api_get,
    api_post,
    card_make,
    card_mark_revoked,
    ids,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures


def node_json(node, **overrides) -> dict:
    row = {
        "id": node.pk,
        "project": node.project.code,
        "seq": node.seq,
        "name": node.name,
        "unit": node.unit.name,
        "owner": node.owner,
        "due_date": node.due_date.isoformat(),
        "committed_due_date": None,
        "completed_at": None,
        "progress": 0,
        "card": None,
        "light": "on_track",
    }
    return row | overrides


# ---------------------------------------------------------------- projects/


@pytest.mark.parametrize(
    ("role", "status", "codes"),
    [
        ("anonymous", 401, None),
        ("staff_other", 200, ["FX-002"]),
        ("staff", 200, ["FX-001"]),
        ("leader", 200, ["FX-001"]),
        ("leader_other", 200, ["FX-002"]),
        ("principal", 200, ["FX-001", "FX-002"]),
        ("supervisor", 200, ["FX-001", "FX-002"]),
    ],
)
def test_projects_list_permissions(client, world, role, status, codes):
    # when
    response = api_get(client, "projects/", world.token(role))
    # then
    assert response.status_code == status
    if codes is not None:
        body = response.json()
        assert body["count"] == len(codes)
        assert [p["code"] for p in body["results"]] == codes


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("staff_other", 404),
        ("staff", 200),
        ("leader", 200),
        ("leader_other", 404),
        ("principal", 200),
        ("supervisor", 200),
    ],
)
def test_project_detail_permissions(client, world, role, status):
    # when
    response = api_get(client, "projects/FX-001/", world.token(role))
    # then
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "对象不存在，或不在您的查看范围内。"}


def test_project_detail_shows_methods_area_and_nodes_with_cards(client, world):
    # given: a grafting project that also combines self-upgrade, its area split across both
    DisposalLineFactory(project=world.project, method="grafting", area_mu=Decimal("100.25"))
    second = NodeFactory(
        project=world.project,
        seq=2,
        name="完成土地收储",
        unit=world.unit,
        due_date=dt.date(2027, 3, 31),
    )
    card_make(world.node, "yellow")
    # when
    response = api_get(client, "projects/FX-001/", world.token("supervisor"))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "code": "FX-001",
        "name": "某纺织厂低效用地收储",
        "locality": "桃花镇",
        "methods": [
            {"method": "takeback", "label": "收储收回", "area_mu": "12.50"},
            {"method": "grafting", "label": "嫁接盘活", "area_mu": "100.25"},
        ],
        "area_mu": "112.75",
        "nodes": [
            node_json(world.node, owner="张三", card="yellow", light="yellow"),
            node_json(second, due_date="2027-03-31"),
        ],
    }


def test_project_nodes_are_only_those_the_caller_may_see(client, world):
    # given: the project has a second node of another unit
    foreign = NodeFactory(project=world.project, seq=2, unit=world.other_unit)
    # when
    staff = api_get(client, "projects/FX-001/", world.token("staff")).json()
    office = api_get(client, "projects/FX-001/", world.token("supervisor")).json()
    other = api_get(client, "projects/FX-001/", world.token("staff_other")).json()
    # then
    assert [n["id"] for n in staff["nodes"]] == [world.node.pk]
    assert [n["id"] for n in office["nodes"]] == [world.node.pk, foreign.pk]
    assert [n["id"] for n in other["nodes"]] == [foreign.pk]


def test_unknown_project_code_is_404(client, world):
    # when
    response = api_get(client, "projects/NOPE/", world.token("supervisor"))
    # then
    assert response.status_code == 404


def test_projects_list_query_count_is_bounded(client, world, django_assert_max_num_queries):
    # given: 20 more projects with 3 nodes each, lines and cards
    for i in range(20):
        project = ProjectFactory(code=f"FX-1{i:02d}", locality=world.locality)
        DisposalLineFactory(project=project)
        for seq in (1, 2, 3):
            node = NodeFactory(project=project, seq=seq, unit=world.unit)
            if seq == 1:
                card_make(node, "yellow")
    api_get(client, "projects/", world.token("staff"))  # the token's use is recorded once
    # when
    with django_assert_max_num_queries(6):
        response = api_get(client, "projects/", world.token("staff"), limit=500)
    # then
    body = response.json()
    assert body["count"] == 21
    assert sum(len(p["nodes"]) for p in body["results"]) == 61
    assert sum(1 for p in body["results"] for n in p["nodes"] if n["card"] == "yellow") == 20


# ---------------------------------------------------------------- nodes/


@pytest.mark.parametrize(
    ("role", "status", "visible"),
    [
        ("anonymous", 401, None),
        ("staff_other", 200, ["other_node"]),
        ("staff", 200, ["node"]),
        ("leader", 200, ["node"]),
        ("leader_other", 200, ["other_node"]),
        ("principal", 200, ["node", "other_node"]),
        ("supervisor", 200, ["node", "other_node"]),
    ],
)
def test_nodes_list_permissions(client, world, role, status, visible):
    # when
    response = api_get(client, "nodes/", world.token(role))
    # then
    assert response.status_code == status
    if visible is not None:
        assert ids(response) == [getattr(world, name).pk for name in visible]
        assert response.json()["count"] == len(visible)


def test_nodes_list_answers_every_field(client, world):
    # given
    world.node.committed_due_date = dt.date(2026, 12, 10)
    world.node.progress = 40
    world.node.save()
    card_make(world.node, "yellow")
    # when
    response = api_get(client, "nodes/", world.token("staff"))
    # then
    assert response.json() == {
        "count": 1,
        "next": None,
        "results": [
            node_json(
                world.node,
                owner="张三",
                committed_due_date="2026-12-10",
                progress=40,
                card="yellow",
                light="yellow",
            )
        ],
    }


def test_nodes_card_is_the_highest_unrevoked_card(client, world):
    # given: node 1 yellow then red; node 2 yellow; node 3 red revoked (yellow stands); node 4 none
    red_node = world.node
    card_make(red_node, "yellow")
    card_make(red_node, "red", breached_at=NOW - dt.timedelta(hours=1))
    yellow_node = NodeFactory(project=world.project, seq=2, unit=world.unit)
    card_make(yellow_node, "yellow")
    revoked_node = NodeFactory(project=world.project, seq=3, unit=world.unit)
    card_make(revoked_node, "yellow")
    revoked = card_make(revoked_node, "red", breached_at=NOW - dt.timedelta(hours=1))
    card_mark_revoked(revoked)
    quiet = NodeFactory(project=world.project, seq=4, unit=world.unit)
    token = world.token("staff")
    # when
    everything = api_get(client, "nodes/", token).json()["results"]
    yellow = api_get(client, "nodes/", token, card="yellow")
    red = api_get(client, "nodes/", token, card="red")
    # then
    assert [(n["id"], n["card"]) for n in everything] == [
        (red_node.pk, "red"),
        (yellow_node.pk, "yellow"),
        (revoked_node.pk, "yellow"),
        (quiet.pk, None),
    ]
    assert ids(yellow) == [yellow_node.pk, revoked_node.pk]
    assert ids(red) == [red_node.pk]


def test_nodes_filter_by_project_code_and_unit_name(client, world):
    # given
    token = world.token("supervisor")
    # when
    by_project = api_get(client, "nodes/", token, project="FX-002")
    by_unit = api_get(client, "nodes/", token, unit="县自然资源局")
    both = api_get(client, "nodes/", token, project="FX-002", unit="县自然资源局")
    unknown = api_get(client, "nodes/", token, project="NOPE")
    # then
    assert ids(by_project) == [world.other_node.pk]
    assert ids(by_unit) == [world.node.pk]
    assert both.json() == {"count": 0, "next": None, "results": []}
    assert unknown.json() == {"count": 0, "next": None, "results": []}


def test_nodes_filter_does_not_widen_the_scope(client, world):
    # when: staff of one unit ask for another unit's nodes
    response = api_get(client, "nodes/", world.token("staff"), unit="县住建局")
    # then
    assert response.json() == {"count": 0, "next": None, "results": []}


def test_nodes_pagination(client, world):
    # given: 7 nodes in all for the office
    extra = [NodeFactory(project=world.project, seq=seq, unit=world.unit) for seq in range(2, 7)]
    every = [world.node.pk] + [n.pk for n in extra] + [world.other_node.pk]
    token = world.token("supervisor")
    # when
    first = api_get(client, "nodes/", token, limit=3)
    second = api_get(client, "nodes/", token, limit=3, offset=3)
    last = api_get(client, "nodes/", token, limit=3, offset=6)
    beyond = api_get(client, "nodes/", token, offset=50)
    default = api_get(client, "nodes/", token)
    # then
    assert first.json()["count"] == second.json()["count"] == last.json()["count"] == 7
    assert ids(first) + ids(second) + ids(last) == every
    assert ids(last) == [world.other_node.pk]
    assert beyond.json() == {"count": 7, "next": None, "results": []}
    assert ids(default) == every


def test_list_default_limit_is_50(client, world):
    # given: 60 nodes
    for seq in range(2, 61):
        NodeFactory(project=world.project, seq=seq, unit=world.unit)
    # when
    response = api_get(client, "nodes/", world.token("staff"))
    # then
    assert response.json()["count"] == 60
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"limit": 501}, {"limit": ["不能大于 500。"]}),
        ({"limit": 0}, {"limit": ["不能小于 1。"]}),
        ({"limit": "ten"}, {"limit": ["请填写整数。"]}),
        ({"offset": -1}, {"offset": ["不能小于 0。"]}),
        ({"card": "green"}, {"card": ["取值无效，可选：yellow、red。"]}),
    ],
)
def test_nodes_bad_query_is_400_with_field_errors(client, world, params, errors):
    # when
    response = api_get(client, "nodes/", world.token("staff"), **params)
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "请求参数有误。", "errors": errors}


def test_nodes_list_query_count_is_bounded(client, world, django_assert_max_num_queries):
    # given: 40 nodes of the staff's unit, half of them carded
    for seq in range(2, 42):
        node = NodeFactory(project=world.project, seq=seq, unit=world.unit)
        if seq % 2:
            card_make(node, "yellow")
    api_get(client, "nodes/", world.token("staff"))
    # when
    with django_assert_max_num_queries(5):  # token, roles, count, page, page's facts
        response = api_get(client, "nodes/", world.token("staff"), limit=500)
    # then
    assert response.json()["count"] == 41
    assert sum(1 for n in response.json()["results"] if n["card"] == "yellow") == 20


# ---------------------------------------------------------------- nodes/{id}/progress/


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
def test_progress_permissions(client, world, role, status):
    # given
    before = snapshot()
    # when
    response = api_post(
        client,
        f"nodes/{world.node.pk}/progress/",
        world.token(role),
        {"percent": 60, "note": "已完成评估"},
    )
    # then
    assert response.status_code == status
    if status == 201:
        assert ProgressReport.objects.count() == 1
        assert Node.objects.get(pk=world.node.pk).progress == 60
    else:
        assert snapshot() == before
    if status == 403:
        assert response.json() == {"detail": "只有责任单位的经办人可以填报该节点。"}


def test_progress_answers_the_report(client, world):
    # when
    response = api_post(
        client,
        f"nodes/{world.node.pk}/progress/",
        world.token("staff"),
        {"percent": 60, "note": "  已完成评估  "},
    )
    # then
    report = ProgressReport.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": report.pk,
        "node": world.node.pk,
        "percent": 60,
        "note": "已完成评估",
        "created_at": "2026-11-23T10:00:00+08:00",
    }
    assert report.author == world.users["staff"]


def test_progress_history_is_recorded_under_the_token_user(client, world):
    # when
    api_post(client, f"nodes/{world.node.pk}/progress/", world.token("staff"), {"percent": 70})
    # then
    latest = Node.history.filter(id=world.node.pk).order_by("-history_id").first()
    assert latest.progress == 70
    assert latest.history_user == world.users["staff"]


@pytest.mark.parametrize(
    ("raw", "errors", "detail"),
    [
        ("{}", {"percent": ["该字段为必填项。"]}, "请求参数有误。"),
        ('{"note": "x"}', {"percent": ["该字段为必填项。"]}, "请求参数有误。"),
        ('{"percent": 101}', {"percent": ["进度须为0到100之间的整数。"]}, None),
        ('{"percent": -1}', {"percent": ["进度须为0到100之间的整数。"]}, None),
        ('{"percent": "50"}', {"percent": ["请填写整数。"]}, "请求参数有误。"),
        ('{"percent": 50.5}', {"percent": ["请填写整数。"]}, "请求参数有误。"),
        ('{"percent": true}', {"percent": ["请填写整数。"]}, "请求参数有误。"),
        ('{"percent": 5, "note": 7}', {"note": ["请填写文本。"]}, "请求参数有误。"),
        ('{"percent": 5, "note": "' + "字" * 2001 + '"}', {"note": ["说明不能超过2000字。"]}, None),
        ('{"percent": 5', {"__all__": ["请求体须是有效的 JSON 对象。"]}, None),
        ("[1, 2]", {"__all__": ["请求体须是有效的 JSON 对象。"]}, None),
        # `null` is no body (issue 10): answered as the empty body is.
        ("null", {"__all__": ["请求体须是有效的 JSON 对象。"]}, "请求参数有误。"),
        ("", {"__all__": ["请求体须是有效的 JSON 对象。"]}, "请求参数有误。"),
    ],
)
def test_progress_bad_input_is_400_and_changes_nothing(client, world, raw, errors, detail):
    # given
    before = snapshot()
    # when
    response = api_post(client, f"nodes/{world.node.pk}/progress/", world.token("staff"), raw=raw)
    # then
    assert response.status_code == 400
    messages = [m for msgs in errors.values() for m in msgs]
    assert response.json() == {"detail": detail or "；".join(messages), "errors": errors}
    assert snapshot() == before


def test_progress_on_a_completed_node_is_409(client, world):
    # given
    world.node.completed_at = NOW - dt.timedelta(days=1)
    world.node.save()
    before = snapshot()
    # when
    response = api_post(
        client, f"nodes/{world.node.pk}/progress/", world.token("staff"), {"percent": 50}
    )
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "节点已办结，不能再填报进度。", "code": "node_completed"}
    assert snapshot() == before


def test_progress_on_an_unknown_node_is_404(client, world):
    # when
    response = api_post(client, "nodes/999999/progress/", world.token("staff"), {"percent": 5})
    # then
    assert response.status_code == 404


# ---------------------------------------------------------------- nodes/{id}/complete/


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("staff_other", 404),
        ("staff", 200),
        ("leader", 403),
        ("leader_other", 404),
        ("principal", 403),
        ("supervisor", 403),
    ],
)
def test_complete_permissions(client, world, role, status):
    # given
    before = snapshot()
    # when
    response = api_post(
        client, f"nodes/{world.node.pk}/complete/", world.token(role), {"note": "协议已签订"}
    )
    # then
    assert response.status_code == status
    if status == 200:
        assert Node.objects.get(pk=world.node.pk).completed_at == NOW
    else:
        assert snapshot() == before


def test_complete_answers_the_node_completed_now(client, world):
    # given
    card_make(world.node, "yellow")
    # when
    response = api_post(
        client, f"nodes/{world.node.pk}/complete/", world.token("staff"), {"note": "协议已签订"}
    )
    # then
    assert response.status_code == 200
    assert response.json() == node_json(
        world.node,
        owner="张三",
        completed_at="2026-11-23T10:00:00+08:00",
        progress=100,
        card="yellow",
        light="done",
    )
    report = ProgressReport.objects.get()
    assert (report.percent, report.note, report.is_completion) == (100, "协议已签订", True)


def test_complete_without_a_body_is_fine(client, world):
    # when
    response = api_post(client, f"nodes/{world.node.pk}/complete/", world.token("staff"), raw="")
    # then
    assert response.status_code == 200
    assert response.json()["completed_at"] == "2026-11-23T10:00:00+08:00"


def test_complete_twice_is_409_and_keeps_the_first_time(client, world, frozen):
    # given
    api_post(client, f"nodes/{world.node.pk}/complete/", world.token("staff"), {})
    frozen.shift(dt.timedelta(hours=2))
    before = snapshot()
    # when
    response = api_post(client, f"nodes/{world.node.pk}/complete/", world.token("staff"), {})
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "节点已办结。", "code": "node_completed"}
    assert snapshot() == before
    assert Node.objects.get(pk=world.node.pk).completed_at == NOW


def test_complete_note_too_long_is_400(client, world):
    # given
    before = snapshot()
    # when
    response = api_post(
        client, f"nodes/{world.node.pk}/complete/", world.token("staff"), {"note": "字" * 2001}
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "说明不能超过2000字。",
        "errors": {"note": ["说明不能超过2000字。"]},
    }
    assert snapshot() == before
