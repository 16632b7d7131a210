"""REST API: scores and ranks per calendar year."""

import datetime as dt
from decimal import Decimal

import pytest

from organization.models import Unit
from projects.models import Project, WorkStream
from scoring.choices import EntryKind
from scoring.models import PointsEntry, RuleVersion
from tests.factories import LocalityFactory, UnitFactory
from tests.test_api_support import api_get, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures


def entry(unit: Unit, points: str, when: str, kind: str = EntryKind.ADJUSTMENT) -> PointsEntry:
    return PointsEntry.objects.create(
        unit=unit, kind=kind, points=Decimal(points), occurred_at=at(when), reason="测试"
    )


@pytest.fixture
def ledger(world):
    """Entries on both sides of the 2026 boundaries, local time."""
    finance = UnitFactory(name="县财政局")
    park = LocalityFactory(name="高新区", kind="park")
    UnitFactory(name="县旧单位", is_active=False)
    entry(world.unit, "-1.00", "2026-03-01 09:00")
    entry(world.unit, "-2.00", "2026-12-31 23:59")
    entry(world.other_unit, "0.50", "2026-01-01 00:00", EntryKind.BONUS)
    entry(world.other_unit, "-1.00", "2027-01-01 00:00")
    entry(finance, "-3.00", "2026-07-01 12:00")
    entry(park, "-1.00", "2025-12-31 23:59")
    return finance, park


def row(unit, kind, points, score, rank, base="100.00", **extra):
    """An answer's row; `extra` names what is not the default (no bonus, no adjustment, new)."""
    return {
        "unit": unit,
        "kind": kind,
        "base": base,
        "points": points,
        "score": score,
        "rank": rank,
        "deductions": "0.00",
        "bonuses": "0.00",
        "adjustments": points,
        "previous_rank": None,
        "movement": None,
        **extra,
    }


def rows(body: dict) -> list[dict]:
    """The results without the unit ids (the database chooses them)."""
    return [{k: v for k, v in r.items() if k != "unit_id"} for r in body["results"]]


def test_scores_of_a_year_rank_units_within_their_kind_group(client, world, ledger):
    # when
    response = api_get(client, "scores/", world.token("staff"), year=2026)
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert rows(response.json()) == [
        row("县住建局", "department", "0.50", "100.50", 1, bonuses="0.50", adjustments="0.00"),
        row("县自然资源局", "department", "-3.00", "97.00", 2),
        row("县财政局", "department", "-3.00", "97.00", 2),
        row("桃花镇", "township", "0.00", "100.00", 1),
        row("高新区", "park", "0.00", "100.00", 1),
    ]


def test_scores_default_to_the_current_local_year_and_its_jan_1_base(client, world, ledger, frozen):
    # given: 2027-01-01 01:00 in Shanghai is still 2026 in UTC; rules changed mid-2026 and on Jan 1
    frozen.move_to(dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC))
    RuleVersion.objects.create(effective_from=dt.date(2026, 6, 1), base_score=Decimal("80"))
    RuleVersion.objects.create(effective_from=dt.date(2027, 1, 1), base_score=Decimal("90"))
    # when
    current = api_get(client, "scores/", world.token("staff"))
    past = api_get(client, "scores/", world.token("staff"), year=2026)
    # then
    assert rows(current.json()) == [
        # 2026: 县住建局 100.50 first, the other two 97.00 second; the localities 100.00 first
        row("县自然资源局", "department", "0.00", "90.00", 1, "90.00", previous_rank=2, movement=1),
        row("县财政局", "department", "0.00", "90.00", 1, "90.00", previous_rank=2, movement=1),
        row("县住建局", "department", "-1.00", "89.00", 3, "90.00", previous_rank=1, movement=-2),
        row("桃花镇", "township", "0.00", "90.00", 1, "90.00", previous_rank=1, movement=0),
        row("高新区", "park", "0.00", "90.00", 1, "90.00", previous_rank=1, movement=0),
    ]
    assert [r["base"] for r in past.json()["results"]] == ["100.00"] * 5


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("staff_other", 200),
        ("staff", 200),
        ("leader", 200),
        ("leader_other", 200),
        ("principal", 200),
        ("supervisor", 200),
    ],
)
def test_scores_permissions(client, world, ledger, role, status):
    # when
    response = api_get(client, "scores/", world.token(role), year=2026)
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["count"] == 5


def test_scores_pagination(client, world, ledger):
    # when
    response = api_get(client, "scores/", world.token("staff"), year=2026, limit=2, offset=2)
    # then
    assert response.json()["count"] == 5
    assert rows(response.json()) == [
        row("县财政局", "department", "-3.00", "97.00", 2),
        row("桃花镇", "township", "0.00", "100.00", 1),
    ]


@pytest.mark.parametrize(
    ("year", "errors"),
    [
        ("abc", {"year": ["请填写整数。"]}),
        ("1999", {"year": ["不能小于 2000。"]}),
        ("2101", {"year": ["不能大于 2100。"]}),
    ],
)
def test_scores_bad_year_is_400(client, world, year, errors):
    # when
    response = api_get(client, "scores/", world.token("staff"), year=year)
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "请求参数有误。", "errors": errors}


def test_scores_query_count_is_bounded(client, world, django_assert_max_num_queries):
    # given: 40 units with 5 entries each
    for i in range(40):
        unit = UnitFactory(name=f"部门{i:02d}")
        for month in range(1, 6):
            entry(unit, "-1.00", f"2026-{month:02d}-10 10:00")
    api_get(client, "scores/", world.token("staff"), year=2026)
    # when
    with django_assert_max_num_queries(3):
        response = api_get(client, "scores/", world.token("staff"), year=2026, limit=500)
    # then
    body = response.json()
    assert body["count"] == 43
    assert {r["score"] for r in body["results"] if r["unit"].startswith("部门")} == {"95.00"}


def test_scores_of_a_period_of_days_with_its_movement(client, world, ledger):
    # when: 2026-12-31 alone, against 2026-12-30 (when every unit had 100)
    response = api_get(
        client, "scores/", world.token("staff"), start="2026-12-31", end="2026-12-31"
    )
    # then
    moved = {"previous_rank": 1, "movement": 0}
    assert rows(response.json())[:3] == [
        row("县住建局", "department", "0.00", "100.00", 1, **moved),
        row("县财政局", "department", "0.00", "100.00", 1, **moved),
        row("县自然资源局", "department", "-2.00", "98.00", 3, previous_rank=1, movement=-2),
    ]
    # and before the units existed, they are new
    before = api_get(client, "scores/", world.token("staff"), start="2026-01-01", end="2026-01-31")
    assert {r["movement"] for r in before.json()["results"]} == {None}


def test_scores_of_a_work_stream_and_a_kind(client, world, ledger):
    # given: the entries of two nodes; the roads stream has the other project
    roads = WorkStream.objects.create(code="roads", name="道路建设", seq=2)
    Project.objects.filter(pk=world.other_project.pk).update(work_stream=roads)
    PointsEntry.objects.create(
        unit=world.unit,
        kind=EntryKind.CARD_DEDUCTION,
        points=Decimal("-1.00"),
        occurred_at=at("2026-05-01 09:00"),
        reason="黄牌",
        node=world.node,
    )
    PointsEntry.objects.create(
        unit=world.other_unit,
        kind=EntryKind.BONUS,
        points=Decimal("2.00"),
        occurred_at=at("2026-06-01 09:00"),
        reason="表彰",
        node=world.other_node,
    )
    # when
    land = api_get(client, "scores/", world.token("staff"), year=2026, work_stream="land")
    road = api_get(client, "scores/", world.token("staff"), year=2026, work_stream="roads")
    localities = api_get(client, "scores/", world.token("staff"), year=2026, kind="locality")
    # then: no base score in a stream; only the entries of its nodes
    assert rows(land.json()) == [
        row("县自然资源局", "department", "-1.00", "-1.00", 1, "0.00", deductions="-1.00",
            adjustments="0.00"),
    ]  # fmt: skip
    assert rows(road.json()) == [
        row("县住建局", "department", "2.00", "2.00", 1, "0.00", bonuses="2.00",
            adjustments="0.00"),
    ]  # fmt: skip
    assert [r["unit"] for r in localities.json()["results"]] == ["桃花镇", "高新区"]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"year": 2026, "start": "2026-01-01"}, {"year": ["年份与起止日期只能选一种。"]}),
        ({"start": "2026-01-01"}, {"end": ["请同时填写结束日期。"]}),
        ({"start": "2026-03-02", "end": "2026-03-01"}, {"end": ["结束日期不能早于开始日期。"]}),
        (
            {"start": "2026-3-1", "end": "2026-03-01"},
            {"start": ["日期格式应为 YYYY-MM-DD，且须是有效日期。"]},
        ),
        ({"work_stream": "nope"}, {"work_stream": ["没有该专项。"]}),
        ({"kind": "township"}, {"kind": ["取值无效，可选：department、locality。"]}),
    ],
)
def test_scores_bad_period_stream_or_kind_is_400(client, world, params, errors):
    # when
    response = api_get(client, "scores/", world.token("staff"), **params)
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == errors
