"""Rankings (奖优罚劣): scores per period ranked within the unit kind, movement, work streams,
the office's bonuses and adjustments, the early-completion bonus, and the exports."""

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from projects.choices import CompletionSource
from projects.models import Node, WorkStream
from scoring.choices import EntryKind
from scoring.models import PointsEntry, RuleVersion
from scoring.rules import competition_ranks, previous_period
from scoring.selectors import ranking_period, unit_entries, unit_ranking
from scoring.services import node_early_bonus_award, points_entry_record
from supervision.models import Card
from supervision.rankings import (
    CardCounts,
    cards_behind_entries,
    ranking_with_cards,
    unit_card_counts,
)
from supervision.services import card_revoke, node_complete, sweep_run
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)
D = Decimal
YEAR_2026 = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 12, 31)}


def at(text: str) -> dt.datetime:
    """An instant in the county's local time, from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def old_unit(name: str, **kwargs):
    """A unit created in 2024, so that it is ranked in the previous periods too."""
    with time_machine.travel(at("2024-06-01 09:00"), tick=False):
        return UnitFactory(name=name, **kwargs)


def entry(unit, points: str, when: str, kind=EntryKind.ADJUSTMENT, node=None) -> PointsEntry:
    return PointsEntry.objects.create(
        unit=unit, kind=kind, points=D(points), occurred_at=at(when), reason="测试", node=node
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


class Ledger:
    """Units created in 2024 (县新单位 in March 2026), two work streams, and entries in 2025 and 2026.

    2026        entries                                       score  rank  2025 score rank
    县财政局     -1 (land node), -2 +2 (revoked, road), +3 bonus  102    1     95 (land)  3
    县新单位     —                                              100    2     did not exist
    县住建局     -2 adjustment (road node)                       98     3     100        2
    县水利局     -2 deduction (no node)                          98     3     101 bonus  1
    桃花镇       +1 bonus (land node)                            101    1     99 (-1)    2
    高新区       —                                              100    2     100        1
    """

    def __init__(self):
        with time_machine.travel(at("2024-06-01 09:00"), tick=False) as traveller:
            self.fin = UnitFactory(name="县财政局")
            self.housing = UnitFactory(name="县住建局")
            self.water = UnitFactory(name="县水利局")
            self.town = LocalityFactory(name="桃花镇")
            self.park = LocalityFactory(name="高新区", kind="park")
            self.closed = UnitFactory(name="县撤并单位", is_active=False)
            traveller.move_to(at("2026-03-01 09:00"))
            self.new = UnitFactory(name="县新单位")
        self.land = WorkStream.objects.land()
        self.roads = WorkStream.objects.create(code="roads", name="道路建设", seq=2)
        land_project = ProjectFactory(code="FX-001", name="某厂收储", locality=self.town)
        road_project = ProjectFactory(
            code="DL-001", name="园区道路", locality=self.town, work_stream=self.roads
        )
        self.fin_land = NodeFactory(project=land_project, unit=self.fin, name="完成测绘")
        self.fin_road = NodeFactory(project=road_project, unit=self.fin, name="完成设计")
        self.housing_road = NodeFactory(project=road_project, unit=self.housing, name="完成招标")
        self.town_land = NodeFactory(project=land_project, unit=self.town, name="完成腾退")

        entry(self.fin, "-1", "2026-03-01 09:00", EntryKind.CARD_DEDUCTION, self.fin_land)
        entry(self.fin, "-2", "2026-05-01 00:00", EntryKind.CARD_DEDUCTION, self.fin_road)
        entry(self.fin, "2", "2026-05-01 00:00", EntryKind.CARD_REVERSAL, self.fin_road)
        entry(self.fin, "3", "2026-06-01 10:00", EntryKind.BONUS)
        entry(self.housing, "-2", "2026-07-01 10:00", node=self.housing_road)
        entry(self.water, "-2", "2026-02-01 00:00", EntryKind.CARD_DEDUCTION)
        entry(self.town, "1", "2026-08-01 10:00", EntryKind.BONUS, self.town_land)
        entry(self.closed, "-9", "2026-08-01 10:00")

        entry(self.fin, "-5", "2025-06-01 10:00", EntryKind.CARD_DEDUCTION, self.fin_land)
        entry(self.water, "1", "2025-12-31 23:59", EntryKind.BONUS)
        entry(self.town, "-1", "2025-09-01 10:00")


@pytest.fixture
def ledger(frozen) -> Ledger:
    return Ledger()


def summary(rows) -> list[tuple]:
    return [
        (r.unit.name, r.group, r.score, r.rank, r.previous_rank, r.movement, r.movement_text)
        for r in rows
    ]


# -- the selector --------------------------------------------------------------------------


def test_a_years_ranking_within_kind_with_ties_and_movement(ledger):
    # when
    rows = unit_ranking(**YEAR_2026)
    # then
    assert summary(rows) == [
        ("县财政局", "department", D("102.00"), 1, 3, 2, "↑2"),
        ("县新单位", "department", D("100.00"), 2, None, None, "新"),
        ("县住建局", "department", D("98.00"), 3, 2, -1, "↓1"),
        ("县水利局", "department", D("98.00"), 3, 1, -2, "↓2"),
        ("桃花镇", "locality", D("101.00"), 1, 2, 1, "↑1"),
        ("高新区", "locality", D("100.00"), 2, 1, -1, "↓1"),
    ]
    fin = rows[0]
    assert (
        fin.base,
        fin.deductions,
        fin.reversals,
        fin.bonuses,
        fin.adjustments,
        fin.points,
        fin.previous_score,
    ) == (D("100.00"), D("-1.00"), D("2.00"), D("3.00"), D("0.00"), D("2.00"), D("95.00"))
    assert (rows[2].adjustments, rows[3].deductions) == (D("-2.00"), D("-2.00"))


def test_a_tie_shares_the_rank_and_the_next_rank_skips():
    # given
    rows = [
        (1, "a", D(98), "乙"),
        (2, "a", D(98), "甲"),
        (3, "a", D(97), "丙"),
        (4, "b", D(1), "丁"),
    ]
    # when / then
    assert competition_ranks(rows) == {1: 1, 2: 1, 3: 3, 4: 1}


def test_kind_filter_lists_one_kind_with_the_same_ranks(ledger):
    # when
    localities = unit_ranking(**YEAR_2026, kind="locality")
    departments = unit_ranking(**YEAR_2026, kind="department")
    # then
    assert summary(localities) == summary(unit_ranking(**YEAR_2026))[4:]
    assert [r.unit.name for r in departments] == ["县财政局", "县新单位", "县住建局", "县水利局"]


def test_a_work_streams_ranking_counts_its_nodes_entries_without_base(ledger):
    # when
    roads = unit_ranking(**YEAR_2026, work_stream=ledger.roads)
    land = unit_ranking(**YEAR_2026, work_stream=ledger.land.pk)
    # then: the bonus without a node and the base score count only in the ranking of all
    assert summary(roads) == [
        ("县财政局", "department", D("0.00"), 1, 1, 0, "—"),
        ("县住建局", "department", D("-2.00"), 2, 1, -1, "↓1"),
    ]
    assert (roads[0].base, roads[0].deductions, roads[0].reversals) == (D(0), D(0), D("2.00"))
    assert summary(land) == [
        ("县财政局", "department", D("-1.00"), 1, 1, 0, "—"),
        ("桃花镇", "locality", D("1.00"), 1, 1, 0, "—"),
    ]
    assert [r.previous_score for r in land] == [D("-5.00"), D("0.00")]
    assert unit_ranking(**YEAR_2026, work_stream=ledger.roads, kind="locality") == []


def test_a_period_counts_entries_from_its_first_day_to_the_end_of_its_last(frozen):
    # given: a quarter; its previous period is the quarter before
    unit = old_unit("县财政局")
    entry(unit, "-1", "2026-06-30 23:59")
    entry(unit, "-2", "2026-07-01 00:00")
    entry(unit, "-4", "2026-09-30 23:59")
    entry(unit, "-8", "2026-10-01 00:00")
    # when
    (row,) = unit_ranking(start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30))
    # then
    assert (row.score, row.previous_score) == (D("94.00"), D("99.00"))


def test_the_base_score_is_the_rules_on_the_first_day_of_each_period(frozen):
    # given
    unit = old_unit("县财政局")
    RuleVersion.objects.create(effective_from=dt.date(2026, 1, 1), base_score=D("90"))
    # when
    (row,) = unit_ranking(**YEAR_2026)
    # then
    assert (row.base, row.score, row.previous_score) == (D("90.00"), D("90.00"), D("100.00"))
    assert row.unit == unit


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),
        ("2024-01-01", "2024-12-31", ("2023-01-01", "2023-12-31")),
        ("2025-01-01", "2025-12-31", ("2024-01-01", "2024-12-31")),  # 2024 has 366 days
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),
        ("2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31")),
        ("2026-01-01", "2026-06-30", ("2025-07-01", "2025-12-31")),
        ("2026-03-10", "2026-03-19", ("2026-02-28", "2026-03-09")),
        ("2026-11-30", "2026-11-30", ("2026-11-29", "2026-11-29")),
    ],
)
def test_the_previous_period_is_as_long(start, end, previous):
    # when
    result = previous_period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    # then
    assert result == tuple(dt.date.fromisoformat(d) for d in previous)


@pytest.mark.parametrize(
    ("kwargs", "result"),
    [
        ({}, ("2026-01-01", "2026-12-31")),
        ({"year": 2025}, ("2025-01-01", "2025-12-31")),
        ({"start": "2026-03-01", "end": "2026-03-01"}, ("2026-03-01", "2026-03-01")),
        ({"year": 2026, "start": "2026-03-01"}, {"year": ["年份与起止日期只能选一种。"]}),
        ({"year": 1999}, {"year": ["年份须在2000到2100之间。"]}),
        ({"start": "2026-03-01"}, {"end": ["请同时填写结束日期。"]}),
        ({"end": "2026-03-01"}, {"start": ["请同时填写开始日期。"]}),
        ({"start": "2026-03-02", "end": "2026-03-01"}, {"end": ["结束日期不能早于开始日期。"]}),
        ({"start": "2020-01-01", "end": "2025-12-31"}, {"end": ["统计期间不能超过5年。"]}),
        ({"start": "1999-12-31", "end": "2000-01-31"}, {"start": ["日期须在2000年到2100年之间。"]}),
    ],
)
def test_the_ranking_period(frozen, kwargs, result):
    kwargs = {k: dt.date.fromisoformat(v) if isinstance(v, str) else v for k, v in kwargs.items()}
    if isinstance(result, dict):
        with pytest.raises(ValidationError) as caught:
            ranking_period(**kwargs)
        assert caught.value.message_dict == result
    else:
        assert ranking_period(**kwargs) == tuple(dt.date.fromisoformat(d) for d in result)


def test_a_units_entries_in_the_period_and_stream(ledger):
    # when
    everything = unit_entries(unit=ledger.fin, **YEAR_2026)
    roads = unit_entries(unit=ledger.fin, **YEAR_2026, work_stream=ledger.roads)
    # then
    assert [(e.kind, e.points) for e in everything] == [
        ("card_deduction", D("-1.00")),
        ("card_deduction", D("-2.00")),
        ("card_reversal", D("2.00")),
        ("bonus", D("3.00")),
    ]
    assert [(e.kind, e.node) for e in roads] == [
        ("card_deduction", ledger.fin_road),
        ("card_reversal", ledger.fin_road),
    ]


def grow(ledger: Ledger, n: int) -> None:
    """n more departments, each with a node in the roads stream and three entries."""
    project = ProjectFactory(work_stream=ledger.roads, locality=ledger.town)
    for i in range(n):
        unit = UnitFactory(name=f"部门{len(ledger.__dict__)}-{i:03d}")
        node = NodeFactory(project=project, unit=unit)
        entry(unit, "-1", "2026-04-01 10:00", EntryKind.CARD_DEDUCTION, node)
        entry(unit, "2", "2026-04-02 10:00", EntryKind.BONUS)
        entry(unit, "-1", "2025-04-02 10:00", node=node)


@pytest.mark.parametrize("extra", [0, 30])
def test_the_ranking_runs_a_fixed_number_of_queries(ledger, django_assert_num_queries, extra):
    # given
    grow(ledger, extra)
    # when / then: the rules (not for a work stream: no base score), the units with their
    # sums; then the cards
    with django_assert_num_queries(2):
        assert len(unit_ranking(**YEAR_2026)) == 6 + extra
    with django_assert_num_queries(1):
        assert len(unit_ranking(**YEAR_2026, work_stream=ledger.roads)) == 2 + extra
    with django_assert_num_queries(3):
        ranked = ranking_with_cards(**YEAR_2026)
    assert len(ranked) == 6 + extra


# -- cards beside the ranking --------------------------------------------------------------


@pytest.fixture
def carded(frozen):
    """县财政局: a yellow card (11-21) on a land node, a red one (11-17) revoked; a road
    node's yellow card (11-21); 县住建局 nothing."""
    fin = UnitFactory(name="县财政局")
    UnitFactory(name="县住建局")
    office = make_user("supervisor", username="office")
    roads = WorkStream.objects.create(code="roads", name="道路建设", seq=2)
    land_node = NodeFactory(unit=fin, name="完成测绘", due_date=dt.date(2026, 11, 10))
    road_node = NodeFactory(
        unit=fin, project=ProjectFactory(work_stream=roads), due_date=dt.date(2026, 11, 20)
    )
    frozen.move_to(at("2026-11-11 01:00"))
    sweep_run()
    frozen.move_to(at("2026-11-17 01:00"))
    sweep_run()
    frozen.move_to(at("2026-11-21 01:00"))
    sweep_run()
    frozen.move_to(NOW)
    red = Card.objects.get(node=land_node, kind="red")
    card_revoke(card=red, actor=office, reason="计划日期录入错误。")
    return fin, roads, land_node, road_node, Card.objects.get(pk=red.pk)


def test_card_counts_per_unit_in_the_period_and_stream(carded):
    # given
    fin, roads, *_ = carded
    # when
    counts = unit_card_counts(unit_ids=[fin.pk], **YEAR_2026)
    road_counts = unit_card_counts(unit_ids=[fin.pk], **YEAR_2026, work_stream=roads)
    december = unit_card_counts(
        unit_ids=[fin.pk], start=dt.date(2026, 11, 18), end=dt.date(2026, 12, 31)
    )
    # then
    assert counts == {fin.pk: CardCounts(yellow=2, red=0, revoked=1)}
    assert road_counts == {fin.pk: CardCounts(yellow=1, red=0, revoked=0)}
    assert december == {fin.pk: CardCounts(yellow=1, red=0, revoked=0)}
    ranked = {r.row.unit.name: r.cards for r in ranking_with_cards(**YEAR_2026, kind="department")}
    assert ranked == {"县财政局": CardCounts(2, 0, 1), "县住建局": CardCounts(0, 0, 0)}


def test_the_sweep_and_revocation_name_the_node_and_the_card_stands_behind(carded):
    # given
    fin, _roads, land_node, road_node, red = carded
    entries = list(unit_entries(unit=fin, **YEAR_2026))
    # when
    behind = cards_behind_entries(e.pk for e in entries)
    # then
    assert [(e.kind, e.points, e.node_id) for e in entries] == [
        ("card_deduction", D("-1.00"), land_node.pk),
        ("card_deduction", D("-2.00"), land_node.pk),
        ("card_reversal", D("2.00"), land_node.pk),
        ("card_deduction", D("-1.00"), road_node.pk),
    ]
    assert [(behind[e.pk].node_id, behind[e.pk].kind) for e in entries] == [
        (land_node.pk, "yellow"),
        (land_node.pk, "red"),
        (land_node.pk, "red"),
        (road_node.pk, "yellow"),
    ]
    assert behind[red.reversal_id].revoke_reason == "计划日期录入错误。"


def test_the_migration_names_the_node_of_existing_card_entries(carded):
    # given: entries from before they named their node, and an office entry that has none
    fin, *_ = carded
    office_entry = entry(fin, "1", "2026-11-01 10:00", EntryKind.BONUS)
    expected = dict(PointsEntry.objects.values_list("pk", "node_id"))
    PointsEntry.objects.update(node=None)
    migration = importlib.import_module("scoring.migrations.0009_entries_node_from_cards")
    # when
    from django.apps import apps

    migration.entries_node_from_cards(apps, None)
    # then
    assert dict(PointsEntry.objects.values_list("pk", "node_id")) == expected
    assert expected[office_entry.pk] is None
    assert sum(1 for v in expected.values() if v is not None) == 4


# -- the office's entries --------------------------------------------------------------------


@pytest.fixture
def office(frozen):
    return make_user("supervisor", username="office")


def snapshot() -> tuple:
    return (
        list(PointsEntry.objects.order_by("pk").values_list("pk", "unit_id", "kind", "points")),
        PointsEntry.history.count(),
    )


def test_the_office_records_a_bonus_kept_in_history(office):
    # given
    unit = UnitFactory(name="县财政局")
    node = NodeFactory(unit=unit)
    # when
    created = points_entry_record(
        actor=office,
        unit=unit,
        kind="bonus",
        points=D("2.5"),
        reason="  省级表彰  ",
        occurred_on=dt.date(2026, 11, 20),
        node=node,
    )
    # then
    saved = PointsEntry.objects.get()
    assert (
        saved.pk,
        saved.kind,
        saved.points,
        saved.reason,
        saved.occurred_at,
        saved.created_by,
        saved.node,
        saved.rule_version,
        saved.event_key,
    ) == (
        created.pk,
        "bonus",
        D("2.50"),
        "省级表彰",
        at("2026-11-20 00:00"),
        office,
        node,
        None,
        None,
    )
    history = saved.history.get()
    assert (history.history_user, history.history_change_reason, history.history_type) == (
        office,
        "督查办记录加分",
        "+",
    )
    (row,) = unit_ranking(**YEAR_2026, kind="department")
    assert (row.bonuses, row.score) == (D("2.50"), D("102.50"))


def test_the_office_records_a_negative_adjustment(office):
    unit = UnitFactory(name="县财政局")
    points_entry_record(
        actor=office,
        unit=unit,
        kind="adjustment",
        points=D("-20"),
        reason="复核更正",
        occurred_on=dt.date(2026, 11, 30),
    )
    (row,) = unit_ranking(**YEAR_2026, kind="department")
    assert (row.adjustments, row.score) == (D("-20.00"), D("80.00"))


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_only_the_office_records_an_entry(frozen, role):
    # given
    unit = UnitFactory(name="县财政局")
    actor = make_user(role, unit)
    before = snapshot()
    # when
    with pytest.raises(PermissionDenied) as caught:
        points_entry_record(
            actor=actor,
            unit=unit,
            kind="bonus",
            points=D(1),
            reason="表彰",
            occurred_on=dt.date(2026, 11, 30),
        )
    # then
    assert str(caught.value) == "只有督查办可以记录加分或调整。"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"reason": "   "}, {"reason": ["请填写事由。"]}),
        ({"reason": "长" * 501}, {"reason": ["事由不能超过500字。"]}),
        ({"kind": "card_deduction"}, {"kind": ["请选择加分或调整。"]}),
        ({"points": D(0)}, {"points": ["加分须大于0。"]}),
        ({"points": D(-1)}, {"points": ["加分须大于0。"]}),
        ({"kind": "adjustment", "points": D(0)}, {"points": ["调整分值不能为0。"]}),
        ({"points": D("20.01")}, {"points": ["分值不能超过±20分。"]}),
        ({"kind": "adjustment", "points": D("-21")}, {"points": ["分值不能超过±20分。"]}),
        ({"points": D("0.125")}, {"points": ["分值最多保留两位小数。"]}),
        ({"points": None}, {"points": ["请填写分值。"]}),
        ({"occurred_on": dt.date(2026, 12, 1)}, {"occurred_on": ["计分日期不能晚于今天。"]}),
        ({"occurred_on": None}, {"occurred_on": ["请填写计分日期。"]}),
        ({"node": "other"}, {"node": ["该节点不由此单位负责。"]}),
        ({"unit": "closed"}, {"__all__": ["该单位已停用。"]}),
    ],
)
def test_a_wrong_entry_is_refused_and_changes_nothing(office, changes, errors):
    # given
    unit = UnitFactory(name="县财政局")
    args = {
        "actor": office,
        "unit": unit,
        "kind": "bonus",
        "points": D(1),
        "reason": "表彰",
        "occurred_on": dt.date(2026, 11, 30),
    } | changes
    if args.get("node") == "other":
        args["node"] = NodeFactory(unit=UnitFactory(name="县住建局"))
    if args["unit"] == "closed":
        args["unit"] = UnitFactory(name="县撤并单位", is_active=False)
    before = snapshot()
    # when
    with pytest.raises(ValidationError) as caught:
        points_entry_record(**args)
    # then
    assert caught.value.message_dict == errors
    assert snapshot() == before


# -- the early-completion bonus ------------------------------------------------------------

DUE = dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("completed", "bonus", "expected"),
    [
        ("2026-11-18 10:00", "5", ("5.00", "FX-001 某厂收储 节点“完成测绘”提前2天办结，加5分")),
        ("2026-11-19 23:59", "5", ("5.00", "FX-001 某厂收储 节点“完成测绘”提前1天办结，加5分")),
        ("2026-11-19 23:59", "0.5", ("0.50", "FX-001 某厂收储 节点“完成测绘”提前1天办结，加0.5分")),
        ("2026-11-20 00:00", "5", None),  # on the due date: on time, not early
        ("2026-11-21 09:00", "5", None),  # late
        ("2026-11-18 10:00", "0", None),  # the rule gives nothing (the default)
        ("2026-11-18 10:00", None, None),  # no rule entered beyond the default one
    ],
)
def test_a_node_completed_ahead_of_plan_earns_the_rules_bonus(frozen, completed, bonus, expected):
    # given
    office = make_user("supervisor", username="office")
    node = NodeFactory(
        name="完成测绘", due_date=DUE, project=ProjectFactory(code="FX-001", name="某厂收储")
    )
    if bonus is not None:
        RuleVersion.objects.create(effective_from=dt.date(2026, 11, 1), early_bonus_points=D(bonus))
    # when
    node_complete(
        node=node, actor=office, source=CompletionSource.ADMIN, completed_at=at(completed)
    )
    # then
    entries = [
        (str(e.points), e.reason, e.kind, e.occurred_at, e.node_id, e.unit_id, e.event_key)
        for e in PointsEntry.objects.all()
    ]
    if expected is None:
        assert entries == []
    else:
        points, reason = expected
        assert entries == [
            (points, reason, "bonus", at(completed), node.pk, node.unit_id, f"early:{node.pk}")
        ]


def test_the_bonus_is_the_rules_in_force_on_the_completion_day(frozen):
    # given
    node = NodeFactory(due_date=DUE)
    RuleVersion.objects.create(effective_from=dt.date(2026, 11, 1), early_bonus_points=D(3))
    RuleVersion.objects.create(effective_from=dt.date(2026, 11, 18), early_bonus_points=D(5))
    # when
    awarded = node_early_bonus_award(node=node, completed_at=at("2026-11-17 23:00"))
    # then
    assert (awarded.points, awarded.rule_version.effective_from) == (D(3), dt.date(2026, 11, 1))


def test_a_node_completed_twice_earns_the_bonus_once(frozen):
    # given: due after today
    node = NodeFactory(due_date=dt.date(2026, 12, 20))
    RuleVersion.objects.create(effective_from=dt.date(2026, 11, 1), early_bonus_points=D(5))
    staff = make_user("staff", node.unit)
    # when: completed, then reopened by a correction and completed again, in one transaction
    with transaction.atomic():
        node_complete(node=node, actor=staff)
        first = PointsEntry.objects.get()
        Node.objects.filter(pk=node.pk).update(completed_at=None)
        node_complete(node=Node.objects.get(pk=node.pk), actor=staff)
        again = node_early_bonus_award(node=node, completed_at=at("2026-11-10 10:00"))
        # the caller's transaction is still usable
        assert Node.objects.filter(pk=node.pk, completed_at__isnull=False).exists()
    # then
    assert again is None
    assert list(PointsEntry.objects.values_list("pk", "points")) == [(first.pk, D("5.00"))]


# -- the exports -----------------------------------------------------------------------------


@pytest.fixture
def reader(ledger):
    user = make_user("staff", ledger.fin, username="reader")
    return user


def download(client, user, **params):
    """GET the export as `user` (None: as the client is already signed in)."""
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("rankings-export"), params)
    body = b"".join(response.streaming_content) if response.streaming else response.getvalue()
    return response, body


EXPORT_HEADER = [
    "类别组",
    "排名",
    "单位",
    "单位类别",
    "得分",
    "基础分",
    "扣分(已扣除撤销)",
    "撤销返还",
    "加分",
    "调整",
    "黄牌",
    "红牌",
    "已撤销亮牌",
    "上期排名",
    "上期得分",
    "变化",
]


def test_the_csv_export_is_the_filtered_ranking(client, ledger, reader):
    # when
    response, body = download(client, reader, format="csv", year=2026, work_stream="roads")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert body.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines == [
        EXPORT_HEADER,
        ["县直部门", "1", "县财政局", "县直部门", "0.00", "0.00", "0.00", "2.00", "0.00", "0.00",
         "0", "0", "0", "1", "0.00", "—"],
        ["县直部门", "2", "县住建局", "县直部门", "-2.00", "0.00", "0.00", "0.00", "0.00", "-2.00",
         "0", "0", "0", "1", "0.00", "↓1"],
    ]  # fmt: skip


def test_the_xlsx_export_and_its_neutralised_cells(client, ledger, reader):
    # given: a unit whose name a spreadsheet would read as a formula
    with time_machine.travel(at("2024-06-01 09:00"), tick=False):
        UnitFactory(name='=HYPERLINK("http://x","点我")', kind="park")
    # when
    response, body = download(client, reader, format="xlsx", year=2026, kind="locality")
    # then
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == EXPORT_HEADER
    assert values[1:] == [
        ["乡镇(园区)", 1, "桃花镇", "乡镇", 101, 100, 0, 0, 1, 0, 0, 0, 0, 3, 99, "↑2"],
        ["乡镇(园区)", 2, "'=HYPERLINK(\"http://x\",\"点我\")", "园区", 100, 100, 0, 0, 0, 0, 0, 0,
         0, 1, 100, "↓1"],
        ["乡镇(园区)", 2, "高新区", "园区", 100, 100, 0, 0, 0, 0, 0, 0, 0, 1, 100, "↓1"],
    ]  # fmt: skip
    assert sheet.cell(row=3, column=3).data_type == "s"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "pdf"}, "导出格式须为 xlsx 或 csv。"),
        ({"format": "csv", "year": "1999"}, "year: 确保该值大于或等于2000。"),
        ({"format": "csv", "start": "2026-03-01"}, "end: 请同时填写结束日期。"),
        ({"format": "csv", "work_stream": "nope"}, "work_stream: "),
        ({"format": "csv", "kind": "township"}, "kind: "),
    ],
)
def test_a_bad_export_request_is_400_in_chinese(client, ledger, reader, params, message):
    response, body = download(client, reader, **params)
    assert response.status_code == 400
    assert message in body.decode()


@pytest.mark.parametrize("extra", [0, 30])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_runs_a_fixed_number_of_queries(
    client, ledger, reader, django_assert_max_num_queries, extra, fmt
):
    # given
    grow(ledger, extra)
    client.force_login(reader)
    # when / then: session and user, the stream, the units with their sums and the cards
    with django_assert_max_num_queries(5):
        response, body = download(client, None, format=fmt, year=2026, work_stream="roads")
    assert response.status_code == 200
