"""Unit staff, in the browser: progress with a photo, then the overdue reason and a new date."""

import re

import pytest

from core import clock
from core.templatetags.core_tags import cn_date, cn_datetime
from projects.models import Node, ProgressAttachment, ProgressReport
from supervision.models import Card, Recommitment
from supervision.services import sweep_run
from tests.browser.support import days_ago, days_ahead, grace_deadline, person, png, upload
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "收回方案已报县政府，等待常务会议研究。"
REASON = "县政府常务会议推迟至下周召开，收回方案未能按期上会。"


def test_staff_report_progress_with_a_photo_then_recommit_after_a_yellow_card(screen):
    # given: a node of the unit whose due date passed yesterday, not yet swept
    unit = UnitFactory(name="县自然资源和规划局")
    project = ProjectFactory(
        code="FXDX-004",
        name="华联包装低效用地收储收回项目",
        locality=LocalityFactory(name="上派镇"),
    )
    due = days_ago(1)
    node = NodeFactory(
        project=project, seq=3, name="收回方案报县政府审批", unit=unit, owner="刘芳", due_date=due
    )
    staff = person("staff", unit, username="staff_zrj", full_name="陈涛")
    person("leader", unit, username="leader_wang", full_name="王立新")
    photo = png()
    page = screen.login("staff_zrj")

    # when: from the dashboard, 我的待办; its 填报进度 leads to the form; 60% with a note and a photo
    screen.arrived("/")
    screen.submit(page.locator(".todo-banner").get_by_role("link", name="我的待办"))
    screen.arrived("/todo/")
    entry = page.locator("li.todo-item", has_text="收回方案报县政府审批")
    screen.shot("todo-overdue")
    screen.submit(entry.get_by_role("link", name="填报进度"))
    screen.arrived(f"/nodes/{node.pk}/progress/")
    page.fill("#id_percent", "60")
    page.fill("#id_note", NOTE)
    page.set_input_files("#id_files", upload("现场照片.png", photo, "image/png"))
    screen.shot("progress-form")
    screen.submit(page.get_by_role("button", name="提交进度"))

    # then: back on the node page, the report is first in its timeline with the photo shown
    screen.arrived(f"/nodes/{node.pk}/")
    assert screen.toasts() == ["进度已提交。"]
    newest = page.locator("ol.timeline > li").first
    assert NOTE in screen.text("ol.timeline > li")
    thumb = newest.locator("img[alt='现场照片.png']")
    assert screen.picture_width(thumb) == 24
    assert screen.text(".node-head dl.facts").count("60%") == 1
    screen.shot("progress-reported")
    report = ProgressReport.objects.get(node=node)
    assert (report.percent, report.note, report.author_id, report.is_completion) == (
        60,
        NOTE,
        staff.pk,
        False,
    )
    attachment = ProgressAttachment.objects.get(report__node=node)
    assert (attachment.report_id, attachment.name) == (report.pk, "现场照片.png")
    assert re.fullmatch(r"progress/\d{4}/\d{2}/[0-9a-f]{32}\.png", attachment.file.name)
    with attachment.file.open("rb") as stored:
        assert stored.read() == photo

    # when: the sweep issues the yellow card; the to-do list now asks for a reason and date
    run = sweep_run(as_of=clock.now())
    assert run.yellow == 1
    issued_on = clock.local_date(Card.objects.get(node=node).issued_at)
    window_end = grace_deadline(issued_on)
    page = screen.go("/todo/")
    entry = page.locator("li.todo-item", has_text="收回方案报县政府审批")
    assert entry.locator(".light").inner_text() == "黄牌"
    assert entry.locator(".todo-when strong").inner_text() == (
        f"3个工作日内提交，截止 {cn_date(window_end)}"
    )
    screen.shot("todo-yellow")
    screen.submit(entry.get_by_role("link", name="说明原因并重新承诺"))
    screen.arrived(f"/nodes/{node.pk}/recommit/")
    assert f"3个工作日内提交，截止 {cn_date(window_end)}" in screen.text(".rule")
    assert "王立新" in screen.text(".rule")
    new_date = days_ahead(14)
    page.fill("#id_reason", REASON)
    page.fill("#id_new_due_date", new_date.isoformat())
    screen.shot("recommit-form")
    screen.submit(page.get_by_role("button", name="提交审批"))

    # then: the node waits for a leader, and says so in its light and its header
    screen.arrived(f"/nodes/{node.pk}/")
    assert screen.toasts() == ["已提交，等待领导审批。"]
    assert page.locator(".node-title .light").inner_text() == "待审批"
    rec = Recommitment.objects.get(node=node)
    assert screen.text(".node-head .rule") == (
        f"陈涛 于 {cn_datetime(rec.submitted_at)} 申请 {cn_date(new_date)} 前完成，待领导审批。"
    )
    assert page.get_by_role("link", name="说明原因并重新承诺").count() == 0
    assert screen.no_sideways_scroll()
    screen.shot("node-awaiting-approval")
    assert (
        rec.status,
        rec.reason,
        rec.new_due_date,
        rec.submitted_by_id,
        rec.decided_by_id,
    ) == ("pending", REASON, new_date, staff.pk, None)
    assert list(Card.objects.filter(node=node).values_list("kind", "deadline", "revoked_at")) == [
        ("yellow", due, None)
    ]
    node = Node.objects.get(pk=node.pk)
    assert (node.progress, node.committed_due_date, node.completed_at) == (60, None, None)
    assert ProgressReport.objects.count() == 1
    assert ProgressAttachment.objects.count() == 1

    # and the to-do list now only waits
    page = screen.go("/todo/")
    entry = page.locator("li.todo-item", has_text="收回方案报县政府审批")
    assert entry.locator(".light").inner_text() == "待审批"
    assert " ".join(entry.locator(".todo-when").inner_text().split()) == (
        f"已申请 {cn_date(new_date)} 前完成，待领导审批"
    )
    screen.shot("todo-awaiting")
