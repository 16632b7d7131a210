"""The supervision office, in the browser: a ledger upload shows its dry run, then imports."""

from decimal import Decimal

import pytest

from organization.models import Unit
from projects.models import DisposalLine, Enterprise, Node, NodeEvent, Project
from tests.browser.support import days_ahead, person, upload
from tests.factories import LocalityFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "项目编号,项目名称,乡镇园区,企业名称,处置方式,面积(亩),节点序号,节点名称,责任单位,计划完成日期,责任人"


def _ledger() -> bytes:
    """Two projects, three nodes, one new park and one new enterprise; saved as Excel does."""
    d1, d2, d3 = days_ahead(20), days_ahead(45), days_ahead(30)
    rows = [
        HEADER,
        f"FXDX-101,新港机械低效用地嫁接盘活项目,桃花工业园,新港机械有限公司,嫁接盘活+自主提升,"
        f"30.50+12.25,1,签订嫁接合作协议,桃花工业园,{d1:%Y/%m/%d},张伟",
        f"FXDX-101,新港机械低效用地嫁接盘活项目,桃花工业园,新港机械有限公司,嫁接盘活+自主提升,"
        f"30.50+12.25,2,完成技改项目备案,县发展和改革委员会,{d2.year}年{d2.month}月{d2.day}日,",
        f"FXDX-102,华祥纺织低效用地收储收回项目,上派镇,,收储收回,18.00,1,企业签订退出协议,上派镇,"
        f"{d3.isoformat()},",
    ]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8-sig")


def _snapshot() -> dict:
    return {
        "projects": Project.objects.count(),
        "lines": DisposalLine.objects.count(),
        "nodes": Node.objects.count(),
        "events": NodeEvent.objects.count(),
        "units": sorted(Unit.objects.values_list("name", flat=True)),
        "enterprises": Enterprise.objects.count(),
    }


def _summary(page, section) -> dict:
    """A result's counts table and its unfolded sections, as the office reads them."""
    table = [
        [" ".join(cell.split()) for cell in row.locator("th, td").all_inner_texts()]
        for row in section.locator("table.counts tr").all()
    ]
    lists = {
        " ".join(d.locator("summary").inner_text().split()): d.locator("li").all_inner_texts()
        for d in section.locator("details.section").all()
    }
    return {"table": table, "lists": lists}


def test_ledger_upload_shows_its_preview_then_imports_once(screen, tmp_path):
    # given: the county already has the township and the development commission
    LocalityFactory(name="上派镇")
    UnitFactory(name="县发展和改革委员会")
    person("supervisor", username="office_li", full_name="李娜")
    before = _snapshot()
    page = screen.login("office_li")

    # when: the office uploads the ledger
    screen.submit(page.locator("nav.mainnav").get_by_role("link", name="台账导入"))
    screen.arrived("/office/ledger/")
    page.set_input_files("#id_file", upload("台账.csv", _ledger(), "text/csv"))
    screen.shot("upload")
    screen.submit(page.get_by_role("button", name="上传并预览"))

    # then: the dry run lists what would be created, and nothing is written yet
    screen.arrived("/office/ledger/")
    preview = page.locator("section.ledger-preview")
    assert preview.locator("h2").inner_text() == "预览：“台账.csv”"
    assert preview.locator(".rule").inner_text() == (
        "试运行：校验通过，以下是将要导入的内容，数据库未作任何修改。"
    )
    expected = {
        "table": [["", "新建", "更新", "无变化"], ["项目", "2", "0", "0"], ["节点", "3", "0", "0"]],
        "lists": {
            "新建项目（2）": ["FXDX-101", "FXDX-102"],
            "新建节点（3）": ["FXDX-101-1", "FXDX-101-2", "FXDX-102-1"],
            "新建责任单位（1）": ["桃花工业园"],
            "新建企业（1）": ["新港机械有限公司"],
        },
    }
    assert _summary(page, preview) == expected
    assert screen.no_sideways_scroll()
    screen.shot("preview")
    assert _snapshot() == before

    # when: it confirms
    screen.submit(preview.get_by_role("button", name="确认导入"))

    # then: the page reports the import, the same as the preview said
    screen.arrived("/office/ledger/")
    assert screen.toasts() == ["台账导入完成。"]
    done = page.locator("section.ledger-done")
    assert done.locator("h2").inner_text() == "已导入“台账.csv”"
    assert _summary(page, done) == expected
    assert page.locator("section.ledger-preview").count() == 0
    assert page.get_by_role("button", name="确认导入").count() == 0
    assert screen.no_sideways_scroll()
    screen.shot("imported")

    # and every row exists exactly once
    assert sorted(Project.objects.values_list("code", "name", "locality__name")) == [
        ("FXDX-101", "新港机械低效用地嫁接盘活项目", "桃花工业园"),
        ("FXDX-102", "华祥纺织低效用地收储收回项目", "上派镇"),
    ]
    assert Project.objects.get(code="FXDX-101").enterprise.name == "新港机械有限公司"
    assert sorted(DisposalLine.objects.values_list("project__code", "method", "area_mu")) == [
        ("FXDX-101", "grafting", Decimal("30.50")),
        ("FXDX-101", "self_upgrade", Decimal("12.25")),
        ("FXDX-102", "takeback", Decimal("18.00")),
    ]
    assert sorted(
        Node.objects.values_list("project__code", "seq", "name", "unit__name", "due_date", "owner")
    ) == [
        ("FXDX-101", 1, "签订嫁接合作协议", "桃花工业园", days_ahead(20), "张伟"),
        ("FXDX-101", 2, "完成技改项目备案", "县发展和改革委员会", days_ahead(45), ""),
        ("FXDX-102", 1, "企业签订退出协议", "上派镇", days_ahead(30), ""),
    ]
    assert sorted(Unit.objects.values_list("name", flat=True)) == sorted(
        before["units"] + ["桃花工业园"]
    )
    assert list(Enterprise.objects.values_list("name", flat=True)) == ["新港机械有限公司"]
    assert Node.objects.filter(completed_at__isnull=False).count() == 0
