"""The unit staff's pages: 我的待办, the node page, its forms and the weekly update."""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organization.models import Unit, User
from projects.models import Node, NodeEvent, ProgressAttachment, ProgressReport, Project
from projects.services import (
    WeeklyRow,
    node_event_record,
    node_progress_report,
    nodes_progress_report_weekly,
)
from scoring.models import PointsEntry, RuleVersion
from supervision.choices import TodoAction
from supervision.models import Card, Recommitment
from supervision.selectors import recommitment_grace_window, todo_list
from supervision.services import recommitment_decide
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory, make_user
from tests.test_api_support import card_make, recommitment_make, snapshot

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
# A Monday. A yellow card issued on Friday 2026-11-27 leaves until the end of Wednesday
# 2026-12-02 for the overdue reason and the new date (domain.md, rule 3).
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)
FRIDAY = dt.datetime(2026, 11, 27, 0, 0, tzinfo=SH)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class Town:
    """A department with its staff and leader, a second department, a project with nodes."""

    unit: Unit
    other_unit: Unit
    project: Project
    node: Node  # yellow-carded on Friday, no recommitment yet
    staff: User
    other_staff: User
    leader: User
    other_leader: User
    principal: User


@pytest.fixture
def town(frozen) -> Town:
    unit = UnitFactory(name="县自然资源和规划局")
    other_unit = UnitFactory(name="县住建局")
    project = ProjectFactory(
        code="FXDX-004",
        name="华联包装低效用地收储收回项目",
        locality=LocalityFactory(name="上派镇"),
    )
    node = NodeFactory(
        project=project,
        seq=3,
        name="收回方案报县政府审批",
        unit=unit,
        owner="刘芳",
        due_date=dt.date(2026, 11, 26),
    )
    card_make(node, "yellow", breached_at=FRIDAY, issued_at=FRIDAY)
    node_event_record(
        node=node, kind="card_issued", actor=None, at=FRIDAY, message="黄牌：超过期限 2026-11-26"
    )
    staff = make_user("staff", unit, username="staff_zrj")
    staff.full_name = "陈涛"
    staff.save()
    leader = make_user("leader", unit, username="leader_wang")
    leader.full_name = "王立新"
    leader.save()
    principal = make_user("principal", username="principal")
    principal.full_name = "周振华"
    principal.save()
    return Town(
        unit=unit,
        other_unit=other_unit,
        project=project,
        node=node,
        staff=staff,
        other_staff=make_user("staff", other_unit, username="staff_zjj"),
        leader=leader,
        other_leader=make_user("leader", other_unit, username="leader_zhang"),
        principal=principal,
    )


def body(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's visible text with tags dropped and blanks squeezed."""
    plain = re.sub(r"<[^>]+>", " ", body(response))
    return re.sub(r"\s+", " ", plain)


def node_make(town: Town, seq: int, name: str, due: dt.date, **kw) -> Node:
    return NodeFactory(project=town.project, seq=seq, name=name, unit=town.unit, due_date=due, **kw)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------- 我的待办


def test_todo_lists_what_each_node_needs_most_urgent_first(client, town):
    # given
    red = node_make(town, 1, "土地及地上附着物评估报告", dt.date(2026, 11, 10), progress=100)
    card_make(red, "yellow")
    card_make(red, "red", breached_at=dt.datetime(2026, 11, 16, tzinfo=SH))
    soon = node_make(town, 4, "规划设计方案审批", dt.date(2026, 12, 1), progress=40)
    done_soon = node_make(town, 5, "签订收回协议", dt.date(2026, 12, 3), progress=100)
    waiting = node_make(town, 6, "不动产权证注销", dt.date(2026, 11, 20))
    card_make(waiting, "yellow")
    recommitment_make(waiting, town.staff, new_due_date=dt.date(2026, 12, 10))
    # not yet near, but lagging: a third of its time since node 6's date gone, no report
    lagging = node_make(town, 7, "纳入储备并挂牌出让", dt.date(2026, 12, 20))
    node_make(
        town, 8, "已办结的节点", dt.date(2026, 12, 1), completed_at=NOW - dt.timedelta(days=1)
    )
    NodeFactory(project=town.project, seq=9, unit=town.other_unit, due_date=dt.date(2026, 12, 1))
    client.force_login(town.staff)
    # when
    response = client.get(reverse("todo"))
    # then
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [(e.node.name, e.action, e.deadline) for e in entries] == [
        ("土地及地上附着物评估报告", TodoAction.COMPLETE, dt.date(2026, 11, 10)),
        ("规划设计方案审批", TodoAction.REPORT, dt.date(2026, 12, 1)),
        ("收回方案报县政府审批", TodoAction.RECOMMIT, dt.date(2026, 12, 2)),
        ("签订收回协议", TodoAction.COMPLETE, dt.date(2026, 12, 3)),
        ("纳入储备并挂牌出让", TodoAction.REPORT, dt.date(2026, 12, 20)),
        ("不动产权证注销", TodoAction.AWAITING, dt.date(2026, 12, 10)),
    ]
    page = text(response)
    assert "FXDX-004 华联包装低效用地收储收回项目" in page
    assert "3个工作日内提交，截止 12月2日（周三） 还剩 2 个工作日" in page
    assert "计划 12月1日（周二） 还剩 1 个工作日 · 进度 40%" in page
    assert "已申请 12月10日（周四） 前完成，待领导审批" in page
    html = body(response)
    assert f'href="/nodes/{town.node.pk}/recommit/">说明原因并重新承诺</a>' in html
    assert f'href="/nodes/{soon.pk}/progress/">填报进度</a>' in html
    assert f'href="/nodes/{done_soon.pk}/complete/">办结</a>' in html
    assert f'href="/nodes/{red.pk}/complete/">办结</a>' in html
    assert f'href="/nodes/{waiting.pk}/">查看节点</a>' in html
    assert 'class="light light-red"' in html and 'class="light light-awaiting_approval"' in html
    assert f'href="/nodes/{lagging.pk}/progress/">填报进度</a>' in html
    assert 'class="light light-lagging"' in html


def test_todo_works_before_any_rule_is_entered(client, town):
    """A fresh database without escalation rules (hence without cards) still shows the
    to-do list, with the default reminder horizon of 3 days."""
    # given
    Card.objects.all().delete()
    PointsEntry.objects.all().delete()
    RuleVersion.objects.all().delete()
    soon = node_make(town, 4, "规划设计方案审批", dt.date(2026, 12, 3))
    node_make(town, 5, "签订收回协议", dt.date(2026, 12, 4))
    client.force_login(town.staff)
    # when
    response = client.get(reverse("todo"))
    # then
    assert response.status_code == 200
    assert [e.node.pk for e in response.context["entries"]] == [town.node.pk, soon.pk]


def test_todo_says_so_when_nothing_is_due(client, town):
    # given: the yellow-carded node is done, the other is far off
    town.node.completed_at = NOW - dt.timedelta(hours=1)
    town.node.save()
    node_make(town, 4, "纳入储备并挂牌出让", dt.date(2027, 3, 1))
    client.force_login(town.staff)
    # when
    response = client.get(reverse("todo"))
    # then
    assert response.context["entries"] == []
    assert "暂无待办，按期推进中" in body(response)


def test_todo_sends_a_leader_to_their_own_work(client, town):
    client.force_login(town.leader)
    response = client.get(reverse("todo"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_todo_asks_an_anonymous_visitor_to_sign_in(client, town):
    response = client.get(reverse("todo"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_todo_reads_with_a_fixed_number_of_queries(client, town, django_assert_max_num_queries):
    # given
    client.force_login(town.staff)
    few = _queries(client, reverse("todo"))
    for i in range(12):
        node = node_make(town, 20 + i, f"节点{i}", dt.date(2026, 11, 20) + dt.timedelta(days=i))
        if i % 3 == 0:
            card_make(node, "yellow")
        if i % 3 == 1:
            card_make(node, "yellow")
            recommitment_make(node, town.staff)
    # when / then
    assert len(todo_list(user=town.staff)) == 13
    with django_assert_max_num_queries(few):
        client.get(reverse("todo"))


def test_todo_after_the_window_closed_asks_for_the_work_not_the_reason(client, town, frozen):
    """Past the grace window no recommitment is taken (the red card is due): 填报进度 remains."""
    frozen.move_to(dt.datetime(2026, 12, 3, 9, 0, tzinfo=SH))
    client.force_login(town.staff)
    entries = client.get(reverse("todo")).context["entries"]
    assert [(e.node.pk, e.action, e.deadline) for e in entries] == [
        (town.node.pk, TodoAction.REPORT, dt.date(2026, 11, 26))
    ]
    response = client.get(reverse("node-recommit", args=[town.node.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("node", args=[town.node.pk])
    assert "该节点当前无需说明原因并重新承诺。" in text(client.get(response["Location"]))


# ---------------------------------------------------------------- the grace window selector


def test_the_grace_window_runs_three_working_days_from_the_card_or_the_last_rejection(town):
    # given: issued on Friday
    window = recommitment_grace_window(node=town.node)
    assert (window.opened_on, window.workdays, window.deadline) == (
        dt.date(2026, 11, 27),
        3,
        dt.date(2026, 12, 2),
    )
    # when: a recommitment is pending, the clock stops
    rec = recommitment_make(town.node, town.staff, submitted_at=NOW)
    assert recommitment_grace_window(node=town.node) is None
    # when: it is rejected on Monday, the window opens again from Monday
    recommitment_decide(recommitment=rec, actor=town.leader, approve=False, comment="理由不充分")
    window = recommitment_grace_window(node=town.node)
    assert (window.opened_on, window.deadline) == (dt.date(2026, 11, 30), dt.date(2026, 12, 3))


# ---------------------------------------------------------------- the node page


def _report_with_photo(town, frozen) -> ProgressReport:
    frozen.shift(dt.timedelta(hours=-2))
    report = node_progress_report(
        node=town.node,
        actor=town.staff,
        percent=40,
        note="已完成方案初稿，待局务会审议。",
        files=[upload("现场照片.png", PNG, "image/png")],
    )
    frozen.shift(dt.timedelta(hours=2))
    return report


def test_node_page_shows_dates_actions_timeline_and_history_to_the_units_staff(
    client, town, frozen
):
    # given
    report = _report_with_photo(town, frozen)
    photo = report.attachments.get()
    client.force_login(town.staff)
    # when
    response = client.get(reverse("node", args=[town.node.pk]))
    # then
    assert response.status_code == 200
    page, html = text(response), body(response)
    assert "收回方案报县政府审批" in page
    assert "计划 11月26日（周四） 已超期 4 天" in page
    assert "完成 未完成" in page
    assert "县自然资源和规划局 （责任人：刘芳）" in page
    assert "黄牌 11月27日（周五） 扣1分" in page
    assert "请在 12月2日（周三） 前说明超期原因并重新承诺完成时间（3个工作日内提交）。" in page
    assert 'class="light light-yellow"' in html
    for name in ("recommit", "progress", "complete"):
        assert f'href="/nodes/{town.node.pk}/{name}/"' in html
    # the timeline, newest first: the report (08:00) after the card (Friday)
    titles = re.findall(r'<div class="ev-title">([^<]*)</div>', html)
    assert titles == ["填报进度 40%", "黄牌：超过期限 2026-11-26"]
    assert "系统 · 11月27日（周五）00:00" in page
    assert "已完成方案初稿，待局务会审议。" in page
    assert "陈涛 · 11月30日（周一）08:00" in page
    assert f'href="/attachments/progress/{photo.pk}/"' in html
    assert f'src="/attachments/progress/{photo.pk}/?inline=1"' in html
    # the change history: who, when, old → new
    assert "陈涛 · 11月30日（周一）08:00 · 填报进度" in page
    assert "进度(%)： 0 → 40" in page


def test_node_page_reads_with_a_fixed_number_of_queries(
    client, town, frozen, django_assert_max_num_queries
):
    # given
    _report_with_photo(town, frozen)
    client.force_login(town.staff)
    few = _queries(client, reverse("node", args=[town.node.pk]))
    for i in range(8):
        frozen.shift(dt.timedelta(minutes=1))
        node_progress_report(
            node=town.node,
            actor=town.staff,
            percent=41 + i,
            note=f"第{i}次",
            files=[upload(f"{i}.png", PNG, "image/png"), upload(f"{i}.pdf", PDF)],
        )
    # when / then
    with django_assert_max_num_queries(few):
        response = client.get(reverse("node", args=[town.node.pk]))
    assert len(response.context["timeline"]) == 10
    assert len(response.context["history"]) == 10


def test_node_page_is_read_only_for_the_leader_in_charge(client, town):
    # given
    client.force_login(town.leader)
    # when
    response = client.get(reverse("node", args=[town.node.pk]))
    # then
    assert response.status_code == 200
    html = body(response)
    assert "收回方案报县政府审批" in html
    assert "/progress/" not in html and "/complete/" not in html and "/recommit/" not in html


def test_node_page_offers_the_approval_to_a_leader_when_a_recommitment_waits(client, town):
    recommitment_make(town.node, town.staff, submitted_at=NOW)
    client.force_login(town.leader)
    response = client.get(reverse("node", args=[town.node.pk]))
    page = text(response)
    assert "陈涛 于 11月30日（周一）10:00 申请 12月10日（周四） 前完成，待领导审批。" in page
    assert f'href="{reverse("approvals")}">去审批</a>' in body(response)


@pytest.mark.parametrize("who", ["other_staff", "other_leader"])
def test_node_page_is_not_found_outside_ones_scope(client, town, who):
    client.force_login(getattr(town, who))
    response = client.get(reverse("node", args=[town.node.pk]))
    assert response.status_code == 404


def test_node_page_asks_an_anonymous_visitor_to_sign_in(client, town):
    response = client.get(reverse("node", args=[town.node.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------- 填报进度


def _seen(node: Node) -> str:
    return Node.objects.get(pk=node.pk).updated_at.isoformat()


def test_progress_form_states_the_rule_and_the_current_percent(client, town):
    client.force_login(town.staff)
    response = client.get(reverse("node-progress", args=[town.node.pk]))
    assert response.status_code == 200
    page = text(response)
    assert "须于 11月26日（周四） 前完成（已超期 4 天）" in page
    assert "单个不超过20MB，一次最多10个" in page
    assert 'name="percent" value="0"' in body(response)


def test_progress_is_reported_with_a_note_and_photos(client, town, settings):
    # given
    client.force_login(town.staff)
    # when
    response = client.post(
        reverse("node-progress", args=[town.node.pk]),
        {
            "percent": "60",
            "note": " 方案已上会 ",
            "seen": _seen(town.node),
            "files": [upload("现场.png", PNG, "image/png"), upload("纪要.pdf", PDF)],
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("node", args=[town.node.pk])
    report = ProgressReport.objects.get()
    assert (report.node_id, report.percent, report.note, report.author_id) == (
        town.node.pk,
        60,
        "方案已上会",
        town.staff.pk,
    )
    assert report.is_completion is False
    files = sorted(report.attachments.values_list("name", "file"))
    assert [name for name, _ in files] == ["现场.png", "纪要.pdf"]
    assert re.fullmatch(r"progress/2026/11/[0-9a-f]{32}\.png", files[0][1])
    assert re.fullmatch(r"progress/2026/11/[0-9a-f]{32}\.pdf", files[1][1])
    assert Node.objects.get(pk=town.node.pk).progress == 60
    assert list(NodeEvent.objects.filter(kind="progress").values_list("message", flat=True)) == [
        "填报进度 60%"
    ]
    assert "进度已提交。" in text(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"percent": "101", "note": "写错了"}, "进度须为0到100之间的整数。"),
        ({"percent": "-5", "note": "写错了"}, "进度须为0到100之间的整数。"),
        ({"percent": "六十", "note": "写错了"}, "进度须为0到100之间的整数。"),
        ({"percent": "", "note": "写错了"}, "请填写进度（0到100的整数）。"),
        ({"percent": "50", "note": "字" * 2001}, None),
    ],
)
def test_progress_with_a_bad_percent_or_note_changes_nothing_and_keeps_the_input(
    client, town, data, field_error
):
    # given
    client.force_login(town.staff)
    before = snapshot()
    # when
    response = client.post(
        reverse("node-progress", args=[town.node.pk]), data | {"seen": _seen(town.node)}
    )
    # then
    assert response.status_code == 400
    assert snapshot() == before
    html = body(response)
    if field_error:
        assert field_error in html
        assert "写错了</textarea>" in html
        if data["percent"]:
            assert f'name="percent" value="{data["percent"]}"' in html
        else:
            assert re.search(r'<input type="number" name="percent" (?!value)', html)
    else:
        assert "说明不能超过2000字。" in html
        assert "字" * 2001 + "</textarea>" in html


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            [upload("照片.jpg", EXE, "image/jpeg")],
            "“照片.jpg”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。",
        ),
        ([upload("大图.png", PNG + b"\x00" * (1024 * 1024), "image/png")], "“大图.png”超过1MB"),
    ],
)
def test_a_refused_file_refuses_the_report_and_saves_no_file(
    client, town, settings, files, message
):
    # given
    settings.NODETRACK_UPLOAD_MAX_MB = 1
    client.force_login(town.staff)
    before = snapshot()
    # when: a good photo goes with the refused one
    response = client.post(
        reverse("node-progress", args=[town.node.pk]),
        {
            "percent": "70",
            "note": "附照片",
            "seen": _seen(town.node),
            "files": [upload("好照片.png", PNG, "image/png"), *files],
        },
    )
    # then
    assert response.status_code == 400
    assert message in body(response)
    assert "浏览器不会保留已选的附件，请重新选择" in body(response)
    assert 'name="percent" value="70"' in body(response)
    assert snapshot() == before
    assert ProgressAttachment.objects.count() == 0
    assert media_files(settings) == []


def test_a_stale_progress_form_is_refused_and_shows_the_latest(client, town, frozen):
    # given: the form was drawn, then a colleague reported meanwhile
    client.force_login(town.staff)
    seen = _seen(town.node)
    frozen.shift(dt.timedelta(minutes=5))
    colleague = make_user("staff", town.unit)
    node_progress_report(node=town.node, actor=colleague, percent=30, note="同事填报")
    before = snapshot()
    # when
    response = client.post(
        reverse("node-progress", args=[town.node.pk]),
        {"percent": "50", "note": "我的填报", "seen": seen},
    )
    # then
    assert response.status_code == 400
    assert "该节点已被他人更新，请查看最新情况后再提交。" in body(response)
    assert "我的填报</textarea>" in body(response)
    assert snapshot() == before
    # the page now carries what the user has seen: submitting again stands
    fresh = re.search(r'name="seen" value="([^"]+)"', body(response)).group(1)
    assert fresh == _seen(town.node)
    again = client.post(
        reverse("node-progress", args=[town.node.pk]),
        {"percent": "50", "note": "我的填报", "seen": fresh},
    )
    assert again.status_code == 302
    assert Node.objects.get(pk=town.node.pk).progress == 50


def test_a_leader_may_not_report_progress(client, town):
    client.force_login(town.leader)
    before = snapshot()
    url = reverse("node-progress", args=[town.node.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"percent": "90", "seen": _seen(town.node)}).status_code == 403
    assert snapshot() == before


def test_another_units_staff_cannot_even_find_the_form(client, town):
    client.force_login(town.other_staff)
    before = snapshot()
    url = reverse("node-progress", args=[town.node.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"percent": "90"}).status_code == 404
    assert snapshot() == before


# ---------------------------------------------------------------- 办结


def test_a_node_is_completed_with_a_note_and_evidence(client, town):
    # given
    client.force_login(town.staff)
    page = text(client.get(reverse("node-complete", args=[town.node.pk])))
    assert "办结后节点记为已完成，完成时间为提交时刻" in page
    # when
    response = client.post(
        reverse("node-complete", args=[town.node.pk]),
        {"note": "县政府已批复", "seen": _seen(town.node), "files": [upload("批复.pdf", PDF)]},
    )
    # then
    assert response.status_code == 302
    node = Node.objects.get(pk=town.node.pk)
    assert (node.completed_at, node.progress) == (NOW, 100)
    report = ProgressReport.objects.get()
    assert (report.percent, report.note, report.is_completion) == (100, "县政府已批复", True)
    assert list(report.attachments.values_list("name", flat=True)) == ["批复.pdf"]
    # the node page now says so, and offers nothing more to do
    after = client.get(reverse("node", args=[town.node.pk]))
    assert "完成 11月30日（周一）10:00" in text(after)
    assert 'class="light light-done"' in body(after)
    assert "/complete/" not in body(after)


def test_completion_with_an_exe_refuses_and_changes_nothing(client, town, settings):
    client.force_login(town.staff)
    before = snapshot()
    response = client.post(
        reverse("node-complete", args=[town.node.pk]),
        {"note": "办结", "seen": _seen(town.node), "files": [upload("验收单.docx", EXE)]},
    )
    assert response.status_code == 400
    assert "“验收单.docx”不是可接受的文件类型" in body(response)
    assert snapshot() == before
    assert media_files(settings) == []


def test_a_stale_completion_is_refused(client, town, frozen):
    client.force_login(town.staff)
    seen = _seen(town.node)
    frozen.shift(dt.timedelta(minutes=1))
    node_progress_report(node=town.node, actor=town.staff, percent=90)
    before = snapshot()
    response = client.post(
        reverse("node-complete", args=[town.node.pk]), {"note": "办结", "seen": seen}
    )
    assert response.status_code == 400
    assert "该节点已被他人更新，请查看最新情况后再提交。" in body(response)
    assert snapshot() == before


# ---------------------------------------------------------------- 说明原因并重新承诺


def test_recommit_form_states_the_window_and_who_approves(client, town):
    client.force_login(town.staff)
    response = client.get(reverse("node-recommit", args=[town.node.pk]))
    assert response.status_code == 200
    page = text(response)
    assert "3个工作日内提交，截止 12月2日（周三） （还剩 2 个工作日）" in page
    assert (
        "提交后由分管领导 王立新 或主要领导 周振华 审批；审批期间不会因未说明原因而亮红牌。" in page
    )
    assert 'type="date"' in body(response)


def test_the_overdue_reason_and_new_date_are_submitted(client, town):
    # given
    client.force_login(town.staff)
    # when
    response = client.post(
        reverse("node-recommit", args=[town.node.pk]),
        {"reason": "县政府常务会延期召开", "new_due_date": "2026-12-15", "seen": _seen(town.node)},
    )
    # then
    assert response.status_code == 302
    rec = Recommitment.objects.get()
    assert (rec.node_id, rec.reason, rec.new_due_date, rec.status, rec.submitted_by_id) == (
        town.node.pk,
        "县政府常务会延期召开",
        dt.date(2026, 12, 15),
        "pending",
        town.staff.pk,
    )
    assert rec.submitted_at == NOW
    page = client.get(response["Location"])
    assert "已提交，等待领导审批。" in text(page)
    assert 'class="light light-awaiting_approval"' in body(page)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"reason": "", "new_due_date": "2026-12-15"}, ["请填写超期原因。"]),
        ({"reason": "   ", "new_due_date": "2026-12-15"}, ["请填写超期原因。"]),
        ({"reason": "延期", "new_due_date": "2026-11-30"}, ["重新承诺完成时间须晚于今天。"]),
        ({"reason": "延期", "new_due_date": "2026-11-01"}, ["重新承诺完成时间须晚于今天。"]),
        ({"reason": "延期", "new_due_date": ""}, ["重新承诺完成时间须晚于今天。"]),
        ({"reason": "延期", "new_due_date": "2026-13-01"}, ["日期格式应为 年-月-日"]),
        ({"reason": "", "new_due_date": "2026-11-01"}, ["请填写超期原因。", "须晚于今天。"]),
    ],
)
def test_a_bad_recommitment_changes_nothing_and_keeps_the_input(client, town, data, errors):
    # given
    client.force_login(town.staff)
    before = snapshot()
    # when
    response = client.post(
        reverse("node-recommit", args=[town.node.pk]), data | {"seen": _seen(town.node)}
    )
    # then
    assert response.status_code == 400
    for error in errors:
        assert error in body(response)
    assert f"{data['reason']}</textarea>" in body(response)
    if data["new_due_date"]:
        assert f'value="{data["new_due_date"]}"' in body(response)
    assert snapshot() == before


def test_a_second_recommitment_while_one_waits_is_refused(client, town):
    recommitment_make(town.node, town.staff, submitted_at=NOW)
    client.force_login(town.staff)
    before = snapshot()
    response = client.post(
        reverse("node-recommit", args=[town.node.pk]),
        {"reason": "再次申请", "new_due_date": "2026-12-20", "seen": _seen(town.node)},
    )
    assert response.status_code == 400
    assert "该节点已有待审批的重新承诺。" in body(response)
    assert snapshot() == before


# ---------------------------------------------------------------- 每周填报


@pytest.fixture
def week(town):
    """Three open nodes of the unit, one done, one of another unit."""
    a = node_make(town, 4, "规划设计方案审批", dt.date(2026, 12, 5), progress=20)
    b = node_make(town, 5, "签订收回协议", dt.date(2026, 12, 20), progress=0)
    node_make(town, 6, "已办结", dt.date(2026, 11, 1), completed_at=NOW, progress=100)
    other = NodeFactory(project=town.project, seq=7, name="住建局节点", unit=town.other_unit)
    return a, b, other


def _weekly_data(*nodes, **values) -> dict:
    data = {}
    for node in nodes:
        node = Node.objects.get(pk=node.pk)
        data[f"percent_{node.pk}"] = str(node.progress)
        data[f"note_{node.pk}"] = ""
        data[f"seen_{node.pk}"] = node.updated_at.isoformat()
    return data | values


def test_weekly_lists_every_open_node_of_the_unit(client, town, week):
    a, b, other = week
    client.force_login(town.staff)
    response = client.get(reverse("weekly"))
    assert response.status_code == 200
    names = [n.name for n in response.context["form"].nodes]
    assert names == ["收回方案报县政府审批", "规划设计方案审批", "签订收回协议"]
    html = body(response)
    assert f'name="percent_{a.pk}" value="20"' in html
    assert "住建局节点" not in html and "已办结" not in html


def test_weekly_saves_the_changed_rows_only(client, town, week):
    # given
    a, b, _other = week
    client.force_login(town.staff)
    data = _weekly_data(
        town.node,
        a,
        b,
        **{f"percent_{a.pk}": "35", f"note_{b.pk}": "已与企业对接"},
    )
    # when
    response = client.post(reverse("weekly"), data)
    # then
    assert response.status_code == 302
    reports = ProgressReport.objects.order_by("node__seq")
    assert [(r.node_id, r.percent, r.note, r.author_id) for r in reports] == [
        (a.pk, 35, "", town.staff.pk),
        (b.pk, 0, "已与企业对接", town.staff.pk),
    ]
    assert Node.objects.get(pk=a.pk).progress == 35
    assert not ProgressReport.objects.filter(node=town.node).exists()
    assert "已提交 2 个节点的进度。" in text(client.get(reverse("weekly")))


def test_weekly_without_changes_writes_nothing(client, town, week):
    client.force_login(town.staff)
    before = snapshot()
    response = client.post(reverse("weekly"), _weekly_data(town.node, *week[:2]))
    assert response.status_code == 302
    assert snapshot() == before


def test_weekly_is_all_or_nothing_with_errors_beside_their_rows(client, town, week, frozen):
    # given: one good row, one bad percent, one row a colleague changed meanwhile
    a, b, _other = week
    client.force_login(town.staff)
    data = _weekly_data(
        town.node,
        a,
        b,
        **{
            f"percent_{town.node.pk}": "50",
            f"note_{town.node.pk}": "好的一行",
            f"percent_{a.pk}": "150",
            f"percent_{b.pk}": "10",
        },
    )
    frozen.shift(dt.timedelta(minutes=3))
    node_progress_report(node=b, actor=make_user("staff", town.unit), percent=5)
    before = snapshot()
    # when
    response = client.post(reverse("weekly"), data)
    # then
    assert response.status_code == 400
    assert snapshot() == before
    html = body(response)
    row_a = html[html.index(f'id="row-{a.pk}"') :][:3000]
    row_b = html[html.index(f'id="row-{b.pk}"') :][:3000]
    assert "进度须为0到100之间的整数。" in row_a.split("</tr>")[0]
    assert "该节点已被他人更新，请查看最新情况后再提交。" in row_b.split("</tr>")[0]
    assert "有节点未能提交，请按提示修改；所有节点均未保存。" in html
    # the good row keeps what was typed
    assert f'name="percent_{town.node.pk}" value="50"' in html
    assert "好的一行</textarea>" in html


def test_weekly_resubmitted_after_a_colleagues_change_stands(client, town, week, frozen):
    """A row changed by someone else meanwhile is refused once; the page then holds the row's
    new state, so submitting the same page again saves every row without retyping."""
    # given
    a, b, _other = week
    client.force_login(town.staff)
    data = _weekly_data(town.node, a, b, **{f"percent_{a.pk}": "40", f"percent_{b.pk}": "10"})
    frozen.shift(dt.timedelta(minutes=3))
    node_progress_report(node=b, actor=make_user("staff", town.unit), percent=5)
    refused = client.post(reverse("weekly"), data)
    assert refused.status_code == 400
    # when: the same page is submitted again, as the browser holds it now
    again = dict(refused.context["form"].data.items())
    response = client.post(reverse("weekly"), again)
    # then
    assert response.status_code == 302
    assert sorted(Node.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "progress")) == [
        (a.pk, 40),
        (b.pk, 10),
    ]


def test_weekly_refuses_a_node_outside_the_actors_units(town, week):
    _a, _b, other = week
    before = snapshot()
    with pytest.raises(PermissionDenied):
        nodes_progress_report_weekly(
            actor=town.staff,
            rows=[WeeklyRow(node_id=town.node.pk, percent=10), WeeklyRow(other.pk, 50)],
        )
    assert snapshot() == before


def test_weekly_reads_with_a_fixed_number_of_queries(
    client, town, week, django_assert_max_num_queries
):
    client.force_login(town.staff)
    few = _queries(client, reverse("weekly"))
    for i in range(15):
        node = node_make(town, 30 + i, f"节点{i}", dt.date(2026, 12, 1) + dt.timedelta(days=i))
        if i % 2:
            card_make(node, "yellow")
    with django_assert_max_num_queries(few):
        response = client.get(reverse("weekly"))
    assert len(response.context["form"].nodes) == 18


def test_weekly_sends_a_leader_to_their_own_work(client, town):
    client.force_login(town.leader)
    assert client.get(reverse("weekly"))["Location"] == reverse("home")
    assert client.post(reverse("weekly"), {})["Location"] == reverse("home")
