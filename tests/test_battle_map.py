"""The battle map (挂图作战图): rows, positions, filters, scope, the date window, paging, the
A3 PDF, and a query count that does not grow with the data."""

import datetime as dt
import re
import zlib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from organization.choices import CoverageTarget
from organization.models import Coverage
from projects.models import WorkStream
from projects.services import node_progress_report
from reports.selectors.battle_map import (
    DESK,
    PDF_A3,
    Marker,
    Window,
    battle_map_page,
    labels_placed,
    months_add,
    text_em,
)
from supervision.choices import Light
from supervision.services import node_complete, recommitment_submit, sweep_run
from tests.factories import (
    DisposalLineFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 12, 7)  # a Monday; the default window is 2026-09-07 to 2027-09-07


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


NOW = at("2026-12-07 10:00")


@pytest.fixture
def w():
    """Two departments, two towns, six projects, built through the services in November.

    project  town    stream  method        nodes (unit, planned → promise) on 2026-12-07
    FX-001   桃花镇  land    takeback      1 land 11-05 done; 2 land 11-10 red;
                                           3 land 2027-01-15 → 2027-02-20 on track;
                                           4 housing 2027-03-10 on track
    FX-002   三河镇  invest  grafting      1 housing 11-26 yellow, recommitment waiting;
                                           2 housing 12-10 due soon (60% reported 12-01);
                                           3 housing 2028-01-01 (after the window)
    FX-003   桃花镇  land    self_upgrade  1 housing 2026-06-01 red, open (before the window)
    FX-004   桃花镇  land    takeback      archived, 1 land 12-20
    FX-005   三河镇  land    takeback      1 land 2028-03-01 (after the window)
    FX-006   三河镇  land    takeback      planned from 2026-09-01: 1 land 2027-05-01 lagging
                                           (0% with 97 of its 242 days gone: 40 points behind)

    Nodes not meant to lag are kept from it: p2n2's 60% is a report of 12-01 (11 of its 14
    days since p2n1's planned date gone: 19 points behind, 6 days silent); the later nodes
    of FX-001 count from their previous node's planned date, FX-005's node from its creation.
    """
    with time_machine.travel(at("2026-11-02 09:00"), tick=False) as traveller:
        land = UnitFactory(name="县自然资源局")
        housing = UnitFactory(name="县住建局")
        taohua = LocalityFactory(name="桃花镇")
        sanhe = LocalityFactory(name="三河镇")
        invest = WorkStream.objects.create(code="invest", name="招商项目", seq=2)
        users = {
            "staff": make_user("staff", land, username="staff"),
            "staff_other": make_user("staff", housing, username="staff_other"),
            "leader": make_user("leader", land, username="leader"),
            "office": make_user("supervisor", username="office"),
        }
        p1 = ProjectFactory(code="FX-001", name="某纺织厂低效用地收储项目", locality=taohua)
        p2 = ProjectFactory(
            code="FX-002", name="某机械厂嫁接盘活项目", locality=sanhe, work_stream=invest
        )
        p3 = ProjectFactory(code="FX-003", name="某化工厂自主提升项目", locality=taohua)
        p4 = ProjectFactory(code="FX-004", name="已归档项目", locality=taohua)
        p5 = ProjectFactory(code="FX-005", name="远期项目", locality=sanhe)
        p6 = ProjectFactory(
            code="FX-006", name="某食品厂收储项目", locality=sanhe, start_date=dt.date(2026, 9, 1)
        )
        for project, method in [
            (p1, "takeback"),
            (p2, "grafting"),
            (p3, "self_upgrade"),
            (p4, "takeback"),
            (p5, "takeback"),
            (p6, "takeback"),
        ]:
            DisposalLineFactory(project=project, method=method)
        d = dt.date
        rows = [
            ("p1n1", p1, 1, land, "完成土地测绘", d(2026, 11, 5), None, 0),
            ("p1n2", p1, 2, land, "签订收储协议", d(2026, 11, 10), None, 0),
            ("p1n3", p1, 3, land, "完成资产评估", d(2027, 1, 15), d(2027, 2, 20), 0),
            ("p1n4", p1, 4, housing, "完成管线迁改", d(2027, 3, 10), None, 0),
            ("p2n1", p2, 1, housing, "签订合作协议", d(2026, 11, 26), None, 0),
            ("p2n2", p2, 2, housing, "完成设备更新", d(2026, 12, 10), None, 0),
            ("p2n3", p2, 3, housing, "投产达效", d(2028, 1, 1), None, 0),
            ("p3n1", p3, 1, housing, "完成环评", d(2026, 6, 1), None, 0),
            ("p4n1", p4, 1, land, "归档节点", d(2026, 12, 20), None, 0),
            ("p5n1", p5, 1, land, "远期节点", d(2028, 3, 1), None, 0),
            ("p6n1", p6, 1, land, "完成收储", d(2027, 5, 1), None, 0),
        ]
        nodes = {
            key: NodeFactory(
                project=project,
                seq=seq,
                unit=unit,
                name=name,
                due_date=due,
                committed_due_date=committed,
                progress=progress,
            )
            for key, project, seq, unit, name, due, committed, progress in rows
        }
        p4.archived_at = timezone.now()
        p4.save()
        traveller.move_to(at("2026-11-04 15:00"))
        node_complete(node=nodes["p1n1"], actor=users["staff"], note="测绘成果已归档。", files=[])
        # yellow for p1n2 and p3n1 on 11-11, red on 11-17; yellow for p2n1 on 11-27
        for when in ("2026-11-11 01:00", "2026-11-17 01:00", "2026-11-27 01:00"):
            traveller.move_to(at(when))
            sweep_run()
        traveller.move_to(at("2026-11-30 09:00"))
        recommitment_submit(
            node=nodes["p2n1"],
            actor=users["staff_other"],
            reason="合作方尚在内部审批。",
            new_due_date=d(2026, 12, 18),
        )
        traveller.move_to(at("2026-12-01 16:00"))
        node_progress_report(
            node=nodes["p2n2"], actor=users["staff_other"], percent=60, note="设备已到厂安装。"
        )
    return {"land": land, "housing": housing, "invest": invest, "users": users, "nodes": nodes}


@pytest.fixture
def frozen(w):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(response) -> list[tuple[str, list[tuple]]]:
    """The rows of a map page: each project's code and its markers as
    (seq, light, planned x, promise x, moved, before the window, after it)."""
    assert response.status_code == 200
    return [
        (
            row.project.code,
            [
                (
                    m.seq,
                    m.light.value,
                    m.planned_x,
                    m.held_x,
                    m.moved,
                    m.before_window,
                    m.after_window,
                )
                for m in row.markers
            ],
        )
        for row in response.context["map"].rows
    ]


def codes(response) -> list[str]:
    return [code for code, _markers in shown(response)]


MAP = "/map/"


# -- rows and positions ----------------------------------------------------------------------


def test_the_office_sees_every_project_with_nodes_in_the_window_in_wall_chart_order(w, frozen):
    """Ordered by town, then the unit of the first node shown, then name; archived projects
    and projects with no node in the window are left off; an open overdue node dated before
    the window is pinned to its left edge; positions are % of the width (1.5 to 98.5)."""
    # when
    response = client_for(w["users"]["office"]).get(MAP)
    # then
    assert shown(response) == [
        (
            "FX-002",
            [
                (1, "awaiting_approval", 22.76, 22.76, False, False, False),
                (2, "due_soon", 26.48, 26.48, False, False, False),
            ],
        ),
        ("FX-006", [(1, "lagging", 64.22, 64.22, False, False, False)]),
        ("FX-003", [(1, "red", 1.5, 1.5, False, True, False)]),
        (
            "FX-001",
            [
                (1, "done", 17.18, 17.18, False, False, False),
                (2, "red", 18.51, 18.51, False, False, False),
                (3, "on_track", 36.05, 45.62, True, False, False),
                (4, "on_track", 50.4, 50.4, False, False, False),
            ],
        ),
    ]
    window = response.context["window"]
    assert (window.start, window.end, window.today_x) == (
        dt.date(2026, 9, 7),
        dt.date(2027, 9, 7),
        "25.68%",
    )
    assert [(t.label, t.pos) for t in window.ticks()][:5] == [
        ("2026年10月", "7.88%"),
        ("11月", "16.12%"),
        ("12月", "24.09%"),
        ("2027年1月", "32.33%"),
        ("2月", "40.57%"),
    ]
    assert len(window.ticks()) == 12


def test_the_page_draws_baseline_promise_line_and_today_and_links_each_node(w, frozen):
    # when
    html = client_for(w["users"]["office"]).get(MAP).content.decode()
    # then: a moved node has its hollow baseline, its filled promise and the line between
    moved = w["nodes"]["p1n3"]
    block = re.search(rf'<a class="bm-node" href="/nodes/{moved.pk}/".*?</a>', html, re.S).group(0)
    assert '<line class="bm-moved" x1="36.05%" x2="45.62%"' in block
    assert '<circle class="bm-baseline" cx="36.05%" cy="23" r="6.5" fill="#ffffff"' in block
    assert '<circle class="bm-promise" cx="45.62%" cy="23" r="9" fill="#52C41A"' in block
    assert ">正</text>" in block and ">3.完成资产评估</text>" in block
    assert (
        "<title>3. 完成资产评估 · 县自然资源局 · 计划 2027年1月15日 · 承诺 2027年2月20日 · 正常推进</title>"
        in block
    )
    # a node on its baseline has one filled marker; a red one says 红 on red
    red = w["nodes"]["p1n2"]
    block = re.search(rf'<a class="bm-node" href="/nodes/{red.pk}/".*?</a>', html, re.S).group(0)
    assert "bm-baseline" not in block and "bm-moved" not in block
    assert '<circle class="bm-promise" cx="18.51%" cy="23" r="9" fill="#F5222D"' in block
    assert ">红</text>" in block
    # the pinned node says it is before the window
    pinned = w["nodes"]["p3n1"]
    block = re.search(rf'<a class="bm-node" href="/nodes/{pinned.pk}/".*?</a>', html, re.S).group(0)
    assert ">◀1.完成环评</text>" in block
    # the today line, on the axis and on each row
    assert html.count('x1="25.68%" x2="25.68%"') == 1 + 4
    assert "截至 12月7日（周一）" in html
    assert "时间范围 2026年9月7日 至 2027年9月7日" in html
    assert "共 4 个项目" in html
    # the navigation leads here for everyone
    assert '<a href="/map/" class="active">挂图作战</a>' in html


def test_a_node_behind_its_time_share_is_drawn_lagging_until_its_progress_catches_up(w, frozen):
    """FX-006 is planned from 2026-09-01 and its one node is due 2027-05-01: 97 of its 242
    days (40%) are gone with nothing reported, more than 30 points behind, so it lags."""
    # when
    html = client_for(w["users"]["office"]).get(MAP).content.decode()
    # then: 滞, dark on orange, and the light spelled out in its tooltip
    lagging = w["nodes"]["p6n1"]
    block = re.search(rf'<a class="bm-node" href="/nodes/{lagging.pk}/".*?</a>', html, re.S)
    block = block.group(0)
    assert 'data-light="lagging"' in block
    assert '<circle class="bm-promise" cx="64.22%" cy="23" r="9" fill="#FA8C16"' in block
    assert 'font-weight="bold" fill="#3d2b00">滞</text>' in block
    assert "<title>1. 完成收储 · 县自然资源局 · 计划 2027年5月1日 · 进度滞后</title>" in block
    # when: its unit reports 10% (30.08 points behind): still lagging
    staff = w["users"]["staff"]
    node_progress_report(node=lagging, actor=staff, percent=10, note="已开展摸底。")
    # then
    office = client_for(w["users"]["office"])
    row = ("FX-006", [(1, "lagging", 64.22, 64.22, False, False, False)])
    assert shown(office.get(MAP, {"locality": "三河镇"}))[-1] == row
    # when: 11% (29.08 points behind, no longer more than 30)
    node_progress_report(node=lagging, actor=staff, percent=11, note="已完成摸底。")
    # then
    row = ("FX-006", [(1, "on_track", 64.22, 64.22, False, False, False)])
    assert shown(office.get(MAP, {"locality": "三河镇"}))[-1] == row


def test_the_legend_counts_the_lights_on_the_page(w, frozen):
    response = client_for(w["users"]["office"]).get(MAP)
    assert [(light.value, mark, n, ink) for light, mark, n, ink in response.context["legend"]] == [
        ("done", "完", 1, "#ffffff"),
        ("red", "红", 2, "#ffffff"),
        ("awaiting_approval", "审", 1, "#ffffff"),
        ("yellow", "黄", 0, "#3d2b00"),
        ("lagging", "滞", 1, "#3d2b00"),
        ("due_soon", "近", 1, "#ffffff"),
        ("on_track", "正", 2, "#ffffff"),
    ]
    html = response.content.decode()
    legend = re.search(r'<li class="bm-legend-item" data-light="lagging">.*?</li>', html).group(0)
    assert '<circle cx="11" cy="11" r="10" fill="#FA8C16"/>' in legend
    assert 'fill="#3d2b00">滞</text></svg>进度滞后<span class="bm-count">1</span>' in legend


# -- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("locality=桃花镇", ["FX-003", "FX-001"]),
        ("method=grafting", ["FX-002"]),
        ("stream=invest", ["FX-002"]),
        ("card=red", ["FX-003", "FX-001"]),
        ("card=yellow", ["FX-002"]),
        ("card=any", ["FX-002", "FX-003", "FX-001"]),
        ("card=none", ["FX-006"]),
        ("locality=三河镇&card=none", ["FX-006"]),
        ("locality=桃花镇&method=grafting", []),
        (
            "locality=&unit=&method=&card=&stream=&start=&end=",
            ["FX-002", "FX-006", "FX-003", "FX-001"],
        ),
    ],
)
def test_filters_narrow_the_projects(w, frozen, query, expected):
    assert codes(client_for(w["users"]["office"]).get(f"{MAP}?{query}")) == expected


def test_the_unit_filter_draws_only_that_units_nodes(w, frozen):
    """A unit's map: its nodes only, so FX-001 shows its one housing node (and sorts by it)."""
    response = client_for(w["users"]["office"]).get(MAP, {"unit": "县住建局"})
    assert shown(response) == [
        (
            "FX-002",
            [
                (1, "awaiting_approval", 22.76, 22.76, False, False, False),
                (2, "due_soon", 26.48, 26.48, False, False, False),
            ],
        ),
        ("FX-003", [(1, "red", 1.5, 1.5, False, True, False)]),
        ("FX-001", [(4, "on_track", 50.4, 50.4, False, False, False)]),
    ]
    assert response.context["chosen"] == [("责任单位", "县住建局")]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("locality=不存在的镇", "乡镇(园区)：选择一个有效的选项"),
        ("unit=不存在的单位", "责任单位：选择一个有效的选项"),
        ("method=sell", "处置方式：选择一个有效的选项"),
        ("card=green", "亮牌：选择一个有效的选项"),
        ("stream=nope", "专项：选择一个有效的选项"),
        ("start=2026-13-01", "起始日期：输入一个有效的日期。"),
        ("start=2027-01-01&end=2026-12-01", "截止日期须晚于起始日期。"),
        ("start=2026-01-01&end=2029-01-02", "时间范围最长 36 个月。"),
        ("start=1999-12-01&end=2000-06-01", "起始日期：日期须在 2000-01-01 至 2099-12-31 之间。"),
        ("end=0001-06-01", "截止日期：日期须在 2000-01-01 至 2099-12-31 之间。"),
        ("start=9999-06-01", "起始日期：日期须在 2000-01-01 至 2099-12-31 之间。"),
    ],
)
def test_an_invalid_filter_says_why_in_chinese_and_shows_no_rows(w, frozen, query, error):
    response = client_for(w["users"]["office"]).get(f"{MAP}?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert shown(response) == []
    assert error in html
    assert "筛选条件有误，请修改后再试。" in html


# -- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["end=0001-06-01", "start=9999-06-01"])
def test_the_pdf_refuses_a_date_out_of_range_like_the_page(w, frozen, query):
    """The PDF of a refused filter is drawn like the page: the error and no rows, never a 500."""
    response = client_for(w["users"]["office"]).get(f"{MAP}pdf/?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:5]
        == b"%PDF-"
    )


def test_staff_see_only_their_units_nodes_and_projects(w, frozen):
    """Staff of the land department never see the housing department's projects or nodes."""
    response = client_for(w["users"]["staff"]).get(MAP)
    html = response.content.decode()
    assert shown(response) == [
        ("FX-006", [(1, "lagging", 64.22, 64.22, False, False, False)]),
        (
            "FX-001",
            [
                (1, "done", 17.18, 17.18, False, False, False),
                (2, "red", 18.51, 18.51, False, False, False),
                (3, "on_track", 36.05, 45.62, True, False, False),
            ],
        ),
    ]
    for hidden in ("FX-002", "某机械厂嫁接盘活项目", "FX-003", "完成环评", "完成管线迁改"):
        assert hidden not in html
    # asking for another unit's nodes shows nothing rather than widening the scope
    assert codes(client_for(w["users"]["staff"]).get(MAP, {"unit": "县住建局"})) == []


def test_the_other_units_staff_see_theirs_and_a_leader_sees_covered_projects(w, frozen):
    assert codes(client_for(w["users"]["staff_other"]).get(MAP)) == ["FX-002", "FX-003", "FX-001"]
    leader = w["users"]["leader"]
    assert codes(client_for(leader).get(MAP)) == ["FX-006", "FX-001"]
    # given: the land department's leader covers (包保) FX-002
    Coverage.objects.create(
        leader=leader, target=CoverageTarget.PROJECT, project=w["nodes"]["p2n1"].project
    )
    assert codes(client_for(leader).get(MAP)) == ["FX-002", "FX-006", "FX-001"]


def test_anonymous_is_sent_to_sign_in(w, frozen):
    for url in (MAP, "/map/pdf/"):
        response = Client().get(url)
        assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={url}")


# -- the window ------------------------------------------------------------------------------


def test_a_later_window_keeps_the_overdue_nodes_pinned_and_drops_the_rest(w, frozen):
    """2027 H1: the nodes in it, plus the open overdue ones pinned left; p2n2 (due 12-10, not
    overdue yet) and the done p1n1 are not drawn."""
    response = client_for(w["users"]["office"]).get(
        MAP, {"start": "2027-01-01", "end": "2027-06-30"}
    )
    assert shown(response) == [
        ("FX-002", [(1, "awaiting_approval", 1.5, 1.5, False, True, False)]),
        ("FX-006", [(1, "lagging", 66.17, 66.17, False, False, False)]),
        ("FX-003", [(1, "red", 1.5, 1.5, False, True, False)]),
        (
            "FX-001",
            [
                (2, "red", 1.5, 1.5, False, True, False),
                (3, "on_track", 9.04, 28.44, True, False, False),
                (4, "on_track", 38.14, 38.14, False, False, False),
            ],
        ),
    ]
    assert response.context["window"].today_shown is False
    assert 'x1="25.68%"' not in response.content.decode()


def test_a_past_window_shows_what_was_due_in_it(w, frozen):
    response = client_for(w["users"]["office"]).get(
        MAP, {"start": "2026-01-01", "end": "2026-06-30"}
    )
    assert shown(response) == [("FX-003", [(1, "red", 82.87, 82.87, False, False, False)])]


def test_a_window_with_one_end_spans_a_year_and_the_shift_links_move_it(w, frozen):
    response = client_for(w["users"]["office"]).get(MAP, {"start": "2027-01-01"})
    window = response.context["window"]
    assert (window.start, window.end) == (dt.date(2027, 1, 1), dt.date(2028, 1, 1))
    html = response.content.decode()
    assert 'href="?start=2026-10-01&amp;end=2027-10-01"' in html
    assert 'href="?start=2027-04-01&amp;end=2028-04-01"' in html
    # the promise after the window is held at its right edge
    response = client_for(w["users"]["office"]).get(
        MAP, {"start": "2026-10-01", "end": "2027-02-01"}
    )
    moved = [m for row in response.context["map"].rows for m in row.markers if m.moved]
    assert [(m.seq, m.planned_x, m.held_x, m.after_window) for m in moved] == [
        (3, 85.09, 98.5, True)
    ]


def test_months_add_keeps_the_day_or_takes_the_months_last():
    assert months_add(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert months_add(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    assert months_add(dt.date(2026, 12, 7), 9) == dt.date(2027, 9, 7)
    assert months_add(dt.date(2026, 12, 7), -12) == dt.date(2025, 12, 7)


# -- paging ----------------------------------------------------------------------------------


def many_projects(n: int, *, town: str = "梅山镇", unit_name: str = "县自然资源局") -> None:
    """`n` more projects in one town, each with three nodes and a card-free path; their
    first node lags (no planned start: 35 of its 69 days since its creation gone, 0%)."""
    with time_machine.travel(at("2026-11-02 09:00"), tick=False):
        town_unit = LocalityFactory(name=town)
        unit = UnitFactory(name=unit_name)
        for i in range(n):
            project = ProjectFactory(
                code=f"MS-{i:03d}", name=f"梅山项目{i:03d}", locality=town_unit
            )
            DisposalLineFactory(project=project)
            for seq in (1, 2, 3):
                NodeFactory(
                    project=project,
                    seq=seq,
                    unit=unit,
                    name=f"节点{seq}",
                    due_date=dt.date(2027, seq, 10),
                    committed_due_date=dt.date(2027, seq, 20) if seq == 2 else None,
                )


def test_twenty_projects_a_page_in_order_and_the_pager_keeps_the_filters(w, frozen):
    # given: 21 projects in 梅山镇
    many_projects(21)
    client = client_for(w["users"]["office"])
    # when
    first = client.get(MAP, {"locality": "梅山镇"})
    second = client.get(MAP, {"locality": "梅山镇", "page": 2})
    # then
    assert codes(first) == [f"MS-{i:03d}" for i in range(20)]
    assert codes(second) == ["MS-020"]
    assert 'href="?locality=%E6%A2%85%E5%B1%B1%E9%95%87&amp;page=2"' in first.content.decode()
    assert "第 1 / 2 页" in first.content.decode()
    # the PDF link carries the same filters and page
    assert 'href="/map/pdf/?locality=%E6%A2%85%E5%B1%B1%E9%95%87&amp;page=2"' in (
        second.content.decode()
    )


# -- the PDF ---------------------------------------------------------------------------------


def media_boxes(pdf: bytes) -> list[tuple[float, ...]]:
    """Every page's MediaBox, in points: read from the PDF's objects, compressed or not."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return [
        tuple(float(n) for n in box.split())
        for chunk in chunks
        for box in re.findall(rb"/MediaBox\s*\[\s*([-\d.\s]+?)\s*\]", chunk)
    ]


def test_the_pdf_is_the_same_filtered_page_on_a3_landscape(w, frozen):
    # when
    response = client_for(w["users"]["office"]).get("/map/pdf/", {"locality": "桃花镇"})
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E6%8C%82%E5%9B%BE%E4%BD%9C%E6%88%98%E5%9B%BE-2026-12-07.pdf"
    )
    assert response.content.startswith(b"%PDF-")
    boxes = media_boxes(response.content)
    assert boxes and {(round(b[2] - b[0], 2), round(b[3] - b[1], 2)) for b in boxes} == {
        (1190.55, 841.89)
    }
    assert codes(response) == ["FX-003", "FX-001"]
    assert [t.name for t in response.templates][0] == "reports/battle_map/pdf.html"


def test_the_pdf_of_staff_holds_only_their_projects(w, frozen):
    response = client_for(w["users"]["staff"]).get("/map/pdf/")
    assert response.status_code == 200
    assert codes(response) == ["FX-006", "FX-001"]


# -- cost --------------------------------------------------------------------------------------

# One page of the map, whatever the number of projects: the session, the user, the chosen
# work stream, the user's roles, the count, the page of projects, its nodes, the navigation's
# unread notifications and the office's holiday-calendar check, the filter form's three lists.
MAP_QUERIES = 12


@pytest.mark.parametrize("url", [MAP, "/map/pdf/"])
@pytest.mark.parametrize("role", ["office", "staff"])
@pytest.mark.parametrize("extra", [0, 60])
def test_a_page_costs_the_same_queries_at_any_size(
    w, frozen, url, role, extra, django_assert_max_num_queries
):
    # given
    many_projects(extra)
    client = client_for(w["users"][role])
    # when
    with django_assert_max_num_queries(MAP_QUERIES):
        response = client.get(url, {"card": "none", "method": "takeback", "stream": "land"})
    # then
    assert response.status_code == 200
    assert len(response.context["map"].rows) == (20 if extra else 1)
    # every row has a lagging node (FX-006's, and each MS project's first), worked out in the
    # same query as the other lights
    assert response.context["map"].light_counts[Light.LAGGING] == (20 if extra else 1)


@pytest.mark.parametrize("extra", [0, 60])
def test_the_selector_costs_three_queries_at_any_size(w, frozen, extra, django_assert_num_queries):
    many_projects(extra)
    user = w["users"]["office"]
    window = Window(start=dt.date(2026, 9, 7), end=dt.date(2027, 9, 7), today=TODAY)
    user_roles_cached = battle_map_page(user=user, window=window)  # noqa: F841 (warms the scope)
    with django_assert_num_queries(3):
        page = battle_map_page(user=user, window=window, page_number=2 if extra else 1)
    assert len(page.rows) == (20 if extra else 4)


def marker(
    node_id: int,
    x: float,
    name: str = "节点名称",
    light: Light = Light.ON_TRACK,
    before_window: bool = False,
) -> Marker:
    return Marker(
        node_id=node_id,
        seq=node_id,
        name=name,
        unit_name="县自然资源局",
        light=light,
        planned=TODAY,
        committed=None,
        planned_x=x,
        held_x=x,
        before_window=before_window,
        after_window=False,
        title="",
    )


def markers_at(*spots) -> list[Marker]:
    """Markers numbered 1, 2, … from x, or (x, light), or (x, light, name, before the window)."""
    made = []
    defaults = (None, Light.ON_TRACK, "节点名称", False)
    for seq, spot in enumerate(spots, start=1):
        given = spot if isinstance(spot, tuple) else (spot,)
        x, light, name, before = given + defaults[len(given) :]
        made.append(marker(seq, x, name=name, light=light, before_window=before))
    return made


DONE, RED = Light.DONE, Light.RED
LONG = "摸底调查（权属、面积、现状）"  # drawn as 摸底调查（权属、… (8 characters and …)


# On a 1000 px track 1 em (11 px) is 1.1%: "1.节点名称" (2 × 0.55 + 4 em) is 5.61% wide, a
# number 0.605%, and two labels of a lane keep 0.55% (half an em) apart.
@pytest.mark.parametrize(
    ("markers", "track_px", "names", "expected"),
    [
        # far apart: every name in the lane above
        (
            markers_at(10.0, 40.0, 70.0),
            1000,
            True,
            [("1.节点名称", 0, "middle"), ("2.节点名称", 0, "middle"), ("3.节点名称", 0, "middle")],
        ),
        # 7% apart: room for both names above (12.805 + 0.55 <= 14.195)
        (
            markers_at(10.0, 17.0),
            1000,
            True,
            [("1.节点名称", 0, "middle"), ("2.节点名称", 0, "middle")],
        ),
        # the same two on a 500 px track: the first name runs into the second's number above,
        # so it goes below
        (
            markers_at(10.0, 17.0),
            500,
            True,
            [("1.节点名称", 1, "middle"), ("2.节点名称", 0, "middle")],
        ),
        # 3% apart: below, then above
        (
            markers_at(10.0, 13.0),
            1000,
            True,
            [("1.节点名称", 1, "middle"), ("2.节点名称", 0, "middle")],
        ),
        # five nodes 10 px apart: numbers take turns above and below, one name finds the
        # second lane below, the others keep their numbers
        (
            markers_at(10.0, 11.0, 12.0, 13.0, 14.0),
            1000,
            True,
            [
                ("1.节点名称", 2, "middle"),
                ("2", 1, "middle"),
                ("3", 0, "middle"),
                ("4", 1, "middle"),
                ("5", 0, "middle"),
            ],
        ),
        # four on one day: three lanes, three names; the fourth marker stands alone
        (
            markers_at(50.0, 50.0, 50.0, 50.0),
            1000,
            True,
            [
                ("1.节点名称", 0, "middle"),
                ("2.节点名称", 1, "middle"),
                ("3.节点名称", 2, "middle"),
                ("", 0, "middle"),
            ],
        ),
        # ... unless it is red: the most telling light is placed first, a done node loses out
        (
            markers_at(50.0, 50.0, 50.0, (50.0, RED)),
            1000,
            True,
            [
                ("1.节点名称", 1, "middle"),
                ("2.节点名称", 2, "middle"),
                ("", 0, "middle"),
                ("4.节点名称", 0, "middle"),
            ],
        ),
        # near the edges a label grows inwards, from or to its marker
        (
            markers_at(2.0, 98.5),
            1000,
            True,
            [("1.节点名称", 0, "start"), ("2.节点名称", 0, "end")],
        ),
        # a long name is cut, a node before the window points left and starts on its marker:
        # 12.21% wide (1.5 to 13.71), it would run into 2's number above (13.70), so goes below
        (
            markers_at((1.5, DONE, LONG, True), (14.0, DONE, "补偿款支付")),
            1000,
            True,
            [("◀1.摸底调查（权属、…", 1, "start"), ("2.补偿款支付", 0, "middle")],
        ),
        # numbers only (a phone): 10 px apart, above and below by turns
        (
            markers_at(10.0, 11.0, 12.0),
            1000,
            False,
            [("1", 0, "middle"), ("2", 1, "middle"), ("3", 0, "middle")],
        ),
        # given out of date order, returned in the given order
        (
            markers_at(13.0, 10.0),
            1000,
            True,
            [("1.节点名称", 0, "middle"), ("2.节点名称", 1, "middle")],
        ),
    ],
)
def test_a_label_is_drawn_only_where_it_does_not_run_into_another(
    markers, track_px, names, expected
):
    placed = labels_placed(markers, track_px=track_px, names=names)
    assert [(label.text, label.lane, label.anchor) for label in placed] == expected


@pytest.mark.parametrize(
    ("text", "em"),
    [("12", 1.1), ("补偿款支付", 5.0), ("1.摸底调查（权属、…", 10.1), ("◀3", 1.55), ("", 0.0)],
)
def test_a_labels_width_is_estimated_from_its_characters(text, em):
    assert text_em(text) == pytest.approx(em)


def test_the_most_telling_light_is_drawn_last(w, frozen):
    response = client_for(w["users"]["office"]).get(MAP)
    fx001 = response.context["map"].rows[-1]
    assert [(m.seq, m.light.value) for m in fx001.drawn] == [
        (1, "done"),
        (3, "on_track"),
        (4, "on_track"),
        (2, "red"),
    ]


@pytest.fixture
def crowded(w, frozen):
    """FX-009: six nodes of the land unit, five of them two or three days apart in March."""
    baiyun = LocalityFactory(name="白云镇")
    project = ProjectFactory(code="FX-009", name="某建材厂低效用地收储项目", locality=baiyun)
    dates = [(3, 1), (3, 3), (3, 5), (3, 8), (3, 10), (4, 20)]
    names = [
        "摸底调查（权属、面积、现状）",
        "土地及地上附着物评估",
        "收回方案报县政府审批",
        "与企业协商谈判",
        "签订土地收回协议",
        "补偿款支付",
    ]
    for seq, ((month, day), name) in enumerate(zip(dates, names, strict=True), start=1):
        NodeFactory(
            project=project, seq=seq, unit=w["land"], name=name, due_date=dt.date(2027, month, day)
        )
    return project


def labels_of(row, which: str) -> list[tuple[int, str, int]]:
    return [(m.seq, getattr(m, which).text, getattr(m, which).lane) for m in row.markers]


def test_a_crowded_row_names_the_nodes_that_fit_and_numbers_the_rest(w, crowded):
    # when
    response = client_for(w["users"]["office"]).get(MAP, {"locality": "白云镇"})
    # then: five nodes within 2.4% of the width (22 px at a desk): their numbers take three
    # lanes, one name finds room in the lane below; the sixth, 11% away, has its name above
    (row,) = response.context["map"].rows
    assert [(m.seq, m.light.value, m.held_x) for m in row.markers] == [
        (1, "on_track", 48.01),
        (2, "on_track", 48.54),
        (3, "on_track", 49.07),
        (4, "on_track", 49.87),
        (5, "on_track", 50.4),
        (6, "on_track", 61.29),
    ]
    assert labels_of(row, "name_label") == [
        (1, "1", 0),
        (2, "2", 1),
        (3, "3.收回方案报县政府…", 2),
        (4, "4", 0),
        (5, "5", 1),
        (6, "6.补偿款支付", 0),
    ]
    # on a phone (numbers only, 340 px) 4 and 5 are too close to be numbered: markers alone
    assert labels_of(row, "seq_label") == [
        (1, "1", 0),
        (2, "2", 1),
        (3, "3", 2),
        (4, "", 0),
        (5, "", 0),
        (6, "6", 0),
    ]
    assert (row.height, row.phone_height) == (60, 60)
    # the page draws exactly those labels, in their lanes; every node keeps its full name
    # in its tooltip and its accessible name
    html = response.content.decode()
    tr = re.search(r'<tr class="bm-row" data-project="FX-009">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<text class="bm-name" x="[\d.]+%" y="(\d+)"[^>]*>([^<]*)</text>', tr) == [
        ("10", "1"),
        ("42", "2"),
        ("56", "3.收回方案报县政府…"),
        ("10", "4"),
        ("42", "5"),
        ("10", "6.补偿款支付"),
    ]
    assert re.findall(r'<text class="bm-seq"[^>]*>([^<]*)</text>', tr) == ["1", "2", "3", "6"]
    assert '<svg class="bm-svg" width="100%" height="60"' in tr
    assert tr.count("<title>") == 6
    assert "节点名称放不下时只标序号，全称见节点提示" in html
    assert "<title>1. 摸底调查（权属、面积、现状） · 县自然资源局 · 计划 2027年3月1日" in tr
    assert 'aria-label="4. 与企业协商谈判 · 县自然资源局 · 计划 2027年3月8日 · 正常推进"' in tr


def test_the_a3_pdf_places_the_labels_on_its_wider_track(w, crowded):
    # when: the same row laid out for the A3 sheet (about 1180 px of track)
    window = Window(start=dt.date(2026, 9, 7), end=dt.date(2027, 9, 7), today=TODAY)
    page = battle_map_page(
        user=w["users"]["office"], window=window, locality=crowded.locality, layout=PDF_A3
    )
    desk = battle_map_page(
        user=w["users"]["office"], window=window, locality=crowded.locality, layout=DESK
    )
    # then: the numbers fit in two lanes there (10 px apart), so the second lane below goes
    # to the first node's name; no numbers for a phone
    (row,) = page.rows
    assert labels_of(row, "name_label") == [
        (1, "1.摸底调查（权属、…", 2),
        (2, "2", 1),
        (3, "3", 0),
        (4, "4", 1),
        (5, "5", 0),
        (6, "6.补偿款支付", 0),
    ]
    assert labels_of(row, "seq_label") == [(seq, "", 0) for seq in range(1, 7)]
    assert labels_of(desk.rows[0], "name_label")[2] == (3, "3.收回方案报县政府…", 2)
    # and the PDF is drawn
    response = client_for(w["users"]["office"]).get("/map/pdf/", {"locality": "白云镇"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
