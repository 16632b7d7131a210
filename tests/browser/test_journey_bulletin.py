"""The bulletin (通报), in the browser: the office generates last month's bulletin, checks it
and publishes it; a unit's staff member finds it under 通报 and opens it."""

import pytest

from core import clock
from reports.models import Bulletin
from reports.selectors.bulletins import last_month
from supervision.models import Card
from supervision.services import card_revoke, sweep_run
from tests.browser.support import person
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_publishes_last_months_bulletin_and_staff_read_it(open_screen):
    # given: last month, two yellow cards of the housing department (one revoked as wrong)
    # and one of 花岗镇
    start, end = last_month(clock.today())
    housing = UnitFactory(name="县住房和城乡建设局")
    town = LocalityFactory(name="花岗镇")
    project = ProjectFactory(code="FXDX-011", name="恒达铸造低效用地收储收回项目", locality=town)
    due = start + (end - start) // 2
    nodes = [
        NodeFactory(
            project=project, seq=1, name="完成土地收回补偿协议签订", unit=housing, due_date=due
        ),
        NodeFactory(project=project, seq=2, name="完成厂房评估", unit=housing, due_date=due),
        NodeFactory(project=project, seq=3, name="完成企业搬迁", unit=town, due_date=due),
    ]
    office = person("supervisor", username="office_li", full_name="李娜")
    person("staff", town, username="staff_wang", full_name="王立新")
    assert sweep_run(as_of=clock.end_of_day_instant(due)).yellow == 3
    card_revoke(card=Card.objects.get(node=nodes[1]), actor=office, reason="计划日期录入有误。")
    title = f"{start.year}年{start.month}月节点工作法督办通报"

    # when: the office opens 通报; the form offers last month
    screen = open_screen("office")
    page = screen.login("office_li")
    screen.submit(page.locator("nav.mainnav").get_by_role("link", name="通报"))
    screen.arrived("/bulletins/")
    assert page.locator("input[name=month]").input_value() == f"{start:%Y-%m}"
    assert screen.text(".empty") == "暂无已发布的通报。"
    assert screen.no_sideways_scroll()
    screen.shot("office-list")
    screen.submit(page.get_by_role("button", name="生成草稿"))

    # then: the draft, numbered and titled, with last month's figures
    bulletin = Bulletin.objects.get()
    screen.arrived(f"/bulletins/{bulletin.pk}/")
    assert screen.toasts() == ["已生成通报草稿，请核对后发布。"]
    assert screen.text("h1.bulletin-title") == title
    assert screen.text(".bulletin-draft") == "草稿：尚未发布，仅督查办可见。"
    assert "本期共亮黄牌 3 张、红牌 0 张，其中已撤销 1 张。" in screen.text(".bulletin-doc")
    by_unit = page.locator("table[data-table='cards-by-unit'] tbody tr")
    assert [" ".join(t.split()) for t in by_unit.all_inner_texts()] == [
        "县住房和城乡建设局 2 0 1",
        "花岗镇 1 0 0",
    ]
    assert page.get_by_role("button", name="打印").is_visible()
    assert screen.no_sideways_scroll()
    screen.shot("office-draft")

    # when: it publishes
    screen.submit(page.get_by_role("button", name="发布"))

    # then
    screen.arrived(f"/bulletins/{bulletin.pk}/")
    assert screen.toasts() == ["通报已发布。"]
    assert page.locator(".bulletin-draft").count() == 0
    assert page.get_by_role("button", name="发布").count() == 0
    bulletin.refresh_from_db()
    assert (bulletin.status, bulletin.published_by) == ("published", office)

    # when: a township's staff member opens 通报
    staff = open_screen("staff")
    page = staff.login("staff_wang")
    staff.submit(page.locator("nav.mainnav").get_by_role("link", name="通报"))
    staff.arrived("/bulletins/")
    cell = page.locator(f"li[data-bulletin='{bulletin.pk}']")
    assert cell.locator("a.row-link").inner_text() == title
    assert "已发布" in cell.inner_text()
    assert staff.no_sideways_scroll()
    staff.shot("staff-list")
    staff.submit(cell.locator("a.row-link"))

    # then: the published bulletin, the same figures, the issuing office at the end
    staff.arrived(f"/bulletins/{bulletin.pk}/")
    assert staff.text("h1.bulletin-title") == title
    assert "已撤销：计划日期录入有误。" in staff.text(".bulletin-doc")
    assert staff.text(".bulletin-signature") == "县节点工作法督查办公室"
    assert page.get_by_role("link", name="下载PDF").is_visible()
    assert staff.no_sideways_scroll()
    staff.shot("staff-bulletin")

    # then: the ranking is the rankings page's for last month, each unit a link to it
    ranking = [
        " ".join(page.locator(f"table[data-table='{key}'] tbody tr").first.inner_text().split())
        for key in ("scores-departments", "scores-localities")
    ]
    assert ranking == [
        "1 县住房和城乡建设局 99 -1 撤销1张 0 0 1 0 新",
        "1 花岗镇 99 -1 0 0 1 0 新",
    ]

    # when: the staff member follows 花岗镇 in the ranking
    staff.submit(
        page.locator("table[data-table='scores-localities']").get_by_role("link", name="花岗镇")
    )

    # then: the town's entries in the bulletin's period
    staff.arrived(f"/rankings/unit/{town.pk}/?start={start:%Y-%m-%d}&end={end:%Y-%m-%d}")
    assert staff.text(".ranking-summary .score") == "99"
    assert staff.no_sideways_scroll()
    staff.shot("staff-ranking-unit")
