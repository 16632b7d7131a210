"""The rankings pages: the ranking with its filters, a unit's entries and the cards behind
them, the office's bonus or adjustment form, and the query counts."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from projects.models import WorkStream
from scoring.choices import EntryKind
from scoring.models import PointsEntry
from supervision.models import Card
from supervision.services import card_revoke, sweep_run
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)
D = Decimal


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


class World:
    """县财政局 with a yellow card (11-21) and a red one (11-17) revoked on a land node, and an
    office bonus; 县住建局 with a road node's adjustment; 桃花镇; people in each role."""

    def __init__(self, traveller):
        traveller.move_to(at("2025-06-01 09:00"))
        self.fin = UnitFactory(name="县财政局")
        self.housing = UnitFactory(name="县住建局")
        self.town = LocalityFactory(name="桃花镇")
        self.users = {
            "staff": make_user("staff", self.fin, username="staff"),
            "leader": make_user("leader", self.housing, username="leader"),
            "principal": make_user("principal", username="principal"),
            "office": make_user("supervisor", username="office"),
        }
        self.roads = WorkStream.objects.create(code="roads", name="道路建设", seq=2)
        project = ProjectFactory(code="FX-001", name="某厂收储", locality=self.town)
        road = ProjectFactory(
            code="DL-001", name="园区道路", locality=self.town, work_stream=self.roads
        )
        self.node = NodeFactory(
            project=project, seq=1, unit=self.fin, name="完成测绘", due_date=dt.date(2026, 11, 10)
        )
        self.road_node = NodeFactory(
            project=road, seq=1, unit=self.housing, name="完成招标", due_date=dt.date(2026, 12, 20)
        )
        traveller.move_to(at("2026-11-11 01:00"))
        sweep_run()
        traveller.move_to(at("2026-11-17 01:00"))
        sweep_run()
        traveller.move_to(at("2026-11-20 10:00"))
        self.red = Card.objects.get(node=self.node, kind="red")
        card_revoke(card=self.red, actor=self.users["office"], reason="计划日期录入错误。")
        PointsEntry.objects.create(
            unit=self.fin,
            kind=EntryKind.BONUS,
            points=D(3),
            reason="省级表彰",
            occurred_at=at("2026-11-20 00:00"),
            created_by=self.users["office"],
        )
        PointsEntry.objects.create(
            unit=self.housing,
            kind=EntryKind.ADJUSTMENT,
            points=D(-2),
            reason="复核更正",
            occurred_at=at("2026-10-20 00:00"),
            node=self.road_node,
        )
        traveller.move_to(NOW)


@pytest.fixture
def w():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield World(traveller)


def page(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


def text_of(response) -> str:
    """The page's visible text, with tags removed and blanks squeezed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def table_rows(response) -> list[str]:
    html = response.content.decode()
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr data-unit=.*?</tr>", html, flags=re.S)
    ]


@pytest.mark.parametrize("role", ["staff", "leader", "principal", "office"])
def test_everyone_signed_in_reads_the_ranking(client, w, role):
    # when
    response = page(client, w.users[role], "rankings")
    # then
    assert response.status_code == 200
    assert response.context["nav_active"] == "rankings"
    # 县财政局: -1 yellow, -2 red revoked (+2 back), +3 bonus; all at 100 in 2025
    assert table_rows(response) == [
        "1 县财政局 县直部门 102 -1 撤销1张 +3 0 1 0 —",
        "2 县住建局 县直部门 98 0 0 -2 0 0 ↓1",
        "1 桃花镇 乡镇 100 0 0 0 0 0 —",
    ]
    assert 'href="/rankings/"' in response.content.decode()


def test_the_ranking_filtered_by_work_stream_and_kind(client, w):
    # when
    roads = page(client, w.users["staff"], "rankings", year=2026, work_stream="roads")
    localities = page(client, w.users["staff"], "rankings", year=2026, kind="locality")
    # then
    assert table_rows(roads) == ["1 县住建局 县直部门 -2 0 0 -2 0 0 —"]
    assert "专项排名只计该专项项目节点的扣分" in text_of(roads)
    assert table_rows(localities) == ["1 桃花镇 乡镇 100 0 0 0 0 0 —"]
    export = reverse("rankings-export")
    assert (
        f'href="{export}?format=csv&amp;year=2026&amp;work_stream=roads"' in roads.content.decode()
    )


def test_a_period_of_days_and_the_movement_since_the_one_before(client, w):
    # when: October (县住建局's adjustment) against September; November against October
    october = page(client, w.users["staff"], "rankings", start="2026-10-01", end="2026-10-31")
    november = page(client, w.users["staff"], "rankings", start="2026-11-01", end="2026-11-30")
    # then
    assert table_rows(october) == [
        "1 县财政局 县直部门 100 0 0 0 0 0 —",
        "2 县住建局 县直部门 98 0 0 -2 0 0 ↓1",
        "1 桃花镇 乡镇 100 0 0 0 0 0 —",
    ]
    assert "2026年10月1日至2026年10月31日" in text_of(october)
    assert table_rows(november) == [
        "1 县财政局 县直部门 102 -1 撤销1张 +3 0 1 0 —",
        "2 县住建局 县直部门 100 0 0 0 0 0 —",
        "1 桃花镇 乡镇 100 0 0 0 0 0 —",
    ]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"year": "abc"}, "年份：输入整数。"),
        ({"year": "2026", "start": "2026-01-01"}, "年份：年份与起止日期只能选一种。"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "结束日期：结束日期不能早于开始日期。"),
        ({"work_stream": "nope"}, "专项：选择一个有效的选项： 该选择不在可用的选项中。"),
        ({"kind": "township"}, "单位类别：选择一个有效的选项。"),
    ],
)
def test_bad_filters_show_their_error_and_no_rows(client, w, params, error):
    # when
    response = page(client, w.users["staff"], "rankings", **params)
    # then
    assert response.status_code == 200
    assert table_rows(response) == []
    assert error in text_of(response)
    assert "筛选条件有误" in text_of(response)


def test_a_units_page_shows_its_entries_with_the_cards_and_revocations_behind_them(client, w):
    # when
    response = page(client, w.users["staff"], "rankings-unit", w.fin.pk, year=2026)
    # then
    assert response.status_code == 200
    text = text_of(response)
    assert "第1名 — 得分 102 基础分 100 扣分 -1 （已返还撤销的2分） 加分 3 调整 0" in text
    assert "黄牌1张，红牌0张，已撤销1张" in text
    office = w.users["office"].display_name
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr data-entry=.*?</tr>", response.content.decode(), flags=re.S)
    ]
    card = "黄牌 FX-001 某厂收储 节点 1. 完成测绘：所违期限 11月10日（周二），11月11日（周三）超期"
    red = "红牌 FX-001 某厂收储 节点 1. 完成测绘：所违期限 11月16日（周一），11月17日（周二）超期"
    revoked = f"已撤销 {office} 11月20日（周五）撤销：计划日期录入错误。"
    assert rows == [
        f"11月11日（周三） 亮牌扣分 -1 {card} 系统 11月11日（周三）01:00",
        f"11月17日（周二） 亮牌扣分 -2 {red} {revoked} 系统 11月17日（周二）01:00",
        f"11月17日（周二） 撤销返还 +2 {red} {revoked} {office} 11月20日（周五）10:00",
        f"11月20日（周五） 加分 +3 省级表彰 {office} 11月20日（周五）10:00",
    ]
    # only the office sees the form
    assert "entry_form" not in response.context
    assert "记录加分或调整" not in text


def test_another_units_reader_sees_the_cards_but_not_the_nodes_behind_them(client, w):
    """The ranking is everyone's; a project's and its nodes' names only their readers'."""
    # when: the leader of 县住建局 reads 县财政局's entries
    response = page(client, w.users["leader"], "rankings-unit", w.fin.pk, year=2026)
    # then
    text = text_of(response)
    assert [m for m in ("FX-001", "某厂收储", "完成测绘") if m in text] == []
    assert "黄牌 所违期限 11月10日（周二），11月11日（周三）超期" in text
    assert "计划日期录入错误。" in text
    assert "省级表彰" in text


def test_the_office_sees_the_entry_form(client, w):
    response = page(client, w.users["office"], "rankings-unit", w.fin.pk)
    assert response.status_code == 200
    assert "记录加分或调整" in text_of(response)
    assert [n.pk for n in response.context["entry_form"].fields["node"].queryset] == [w.node.pk]


def test_the_office_records_a_bonus_and_comes_back_to_the_units_page(client, w):
    # given
    client.force_login(w.users["office"])
    url = reverse("rankings-record", args=[w.fin.pk]) + "?year=2026"
    # when
    response = client.post(
        url,
        {
            "kind": "adjustment",
            "points": "-1.5",
            "occurred_on": "2026-11-30",
            "reason": "台账数据报送迟延",
            "node": w.node.pk,
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("rankings-unit", args=[w.fin.pk]) + "?year=2026"
    saved = PointsEntry.objects.latest("pk")
    assert (saved.unit, saved.kind, saved.points, saved.reason, saved.node, saved.created_by) == (
        w.fin,
        "adjustment",
        D("-1.50"),
        "台账数据报送迟延",
        w.node,
        w.users["office"],
    )
    assert saved.history.get().history_user == w.users["office"]


def test_a_wrong_entry_keeps_the_input_and_changes_nothing(client, w):
    # given
    client.force_login(w.users["office"])
    before = list(PointsEntry.objects.values_list("pk", flat=True))
    # when
    response = client.post(
        reverse("rankings-record", args=[w.fin.pk]),
        {"kind": "bonus", "points": "-3", "occurred_on": "2026-11-30", "reason": "表彰通报"},
    )
    # then
    assert response.status_code == 200
    form = response.context["entry_form"]
    assert form.errors == {"points": ["加分须大于0。"]}
    html = response.content.decode()
    assert 'value="-3"' in html and "表彰通报</textarea>" in html
    assert list(PointsEntry.objects.values_list("pk", flat=True)) == before


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_only_the_office_records_an_entry(client, w, role):
    # given
    client.force_login(w.users[role])
    before = list(PointsEntry.objects.values_list("pk", flat=True))
    # when
    response = client.post(
        reverse("rankings-record", args=[w.fin.pk]),
        {"kind": "bonus", "points": "3", "occurred_on": "2026-11-30", "reason": "表彰"},
    )
    # then
    assert response.status_code == 403
    assert list(PointsEntry.objects.values_list("pk", flat=True)) == before


def grow(w: World, n: int) -> None:
    """n more departments with a road node, an entry each, and a card."""
    project = ProjectFactory(work_stream=w.roads, locality=w.town)
    for i in range(n):
        unit = UnitFactory(name=f"部门{i:03d}")
        node = NodeFactory(project=project, unit=unit, due_date=dt.date(2026, 11, 20))
        PointsEntry.objects.create(
            unit=unit,
            kind=EntryKind.BONUS,
            points=D(1),
            reason="表彰",
            occurred_at=at("2026-05-01 00:00"),
            node=node,
        )
    sweep_run()


@pytest.mark.parametrize("extra", [0, 25])
@pytest.mark.parametrize("params", [{}, {"work_stream": "roads", "year": "2026"}])
def test_the_ranking_page_runs_a_fixed_number_of_queries(
    client, w, django_assert_max_num_queries, extra, params
):
    # given
    grow(w, extra)
    client.force_login(w.users["office"])
    client.get(reverse("rankings"))
    # when / then: session, user, roles (navigation), notifications badge, calendar
    # warning, the streams' options, and the rules (or the chosen stream), the units with
    # their sums and the cards: nine, whatever the size
    with django_assert_max_num_queries(9):
        response = client.get(reverse("rankings"), params)
    assert response.status_code == 200
    assert len(table_rows(response)) in (3 + extra, 2 + extra, 1 + extra)


@pytest.mark.parametrize("extra", [0, 25])
def test_a_units_page_runs_a_fixed_number_of_queries(
    client, w, django_assert_max_num_queries, extra
):
    # given
    grow(w, extra)
    client.force_login(w.users["office"])
    # when / then
    # the page's nine, the unit, its entries, the cards behind them, which of their nodes
    # the reader sees, and the nodes of the form
    with django_assert_max_num_queries(14):
        response = client.get(reverse("rankings-unit", args=[w.fin.pk]))
    assert response.status_code == 200
