"""The supervision office, in the browser: a red card's item inspected on site and closed;
a wrong card revoked and the unit's score restored."""

import re
from decimal import Decimal

import pytest

from core import clock
from core.templatetags.core_tags import cn_date, cn_datetime
from scoring.models import PointsEntry
from scoring.selectors import unit_scores
from supervision.models import Card, InspectionAttachment, InspectionRecord, SupervisionItem
from supervision.services import sweep_run
from tests.browser.support import days_ago, grace_deadline, person, png, upload
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INSPECTION = "现场查看：补偿协议已谈妥6户，剩余2户约定下周签订。"
CLOSE_NOTE = "补偿协议已全部签订，经现场核实，同意销号。"
REVOKE_REASON = "该节点计划日期录入有误，实际期限为下月底，黄牌系误发。"


def test_office_inspects_a_red_card_item_on_site_and_closes_it(screen):
    # given: a node 40 days late; yellow at its breach, red when the grace window closed
    unit = UnitFactory(name="县住房和城乡建设局")
    project = ProjectFactory(
        code="FXDX-011",
        name="恒达铸造低效用地收储收回项目",
        locality=LocalityFactory(name="花岗镇"),
    )
    due = days_ago(40)
    node = NodeFactory(
        project=project, seq=2, name="完成土地收回补偿协议签订", unit=unit, due_date=due
    )
    office = person("supervisor", username="office_li", full_name="李娜")
    yellow_at = clock.end_of_day_instant(due)
    assert sweep_run(as_of=yellow_at).yellow == 1
    red_at = clock.end_of_day_instant(grace_deadline(clock.local_date(yellow_at)))
    assert red_at < clock.now()
    assert sweep_run(as_of=red_at).red == 1
    red = Card.objects.get(node=node, kind="red")
    assert red.breached_at == red_at
    item = SupervisionItem.objects.get(card=red)
    photo = png(rgb=(245, 34, 45))
    page = screen.login("office_li")

    # when: the office signs in (on the dashboard) and opens the red-card list
    screen.arrived("/")
    screen.submit(page.locator("nav.mainnav").get_by_role("link", name="亮牌"))

    # then: the red card is listed with its unit, the date it broke and its deduction
    screen.arrived("/office/cards/")
    row = page.locator(f"tr[data-row='{red.pk}']")
    assert row.locator("td[data-label='项目']").inner_text().split("\n")[0] == (
        "FXDX-011 恒达铸造低效用地收储收回项目"
    )
    assert row.locator("td[data-label='节点']").inner_text() == "2. 完成土地收回补偿协议签订"
    assert row.locator("td[data-label='责任单位']").inner_text() == "县住房和城乡建设局"
    assert row.locator("td[data-label='超期时刻']").inner_text() == cn_datetime(red_at)
    assert row.locator("td[data-label='扣分']").inner_text() == "扣2分"
    assert row.locator("td[data-label='超期天数']").inner_text() == "40 天"
    screen.shot("red-cards")

    # when: on the priority list it opens the item
    screen.submit(page.locator("nav.mainnav").get_by_role("link", name="重点督办"))
    count = page.locator("h1 .count")
    assert count.inner_text() == "共 1 项"
    # plain grey text, not the purple pill of the leaders' 待审批 count
    assert count.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
    row = page.locator(f"tr[data-row='{item.pk}']")
    assert row.locator("td[data-label='超期天数']").inner_text() == "40 天"
    assert row.locator("td[data-label='最近督查']").inner_text() == "暂无督查记录"
    assert row.locator("td[data-label='状态']").inner_text() == "督办中"
    assert screen.no_sideways_scroll()
    screen.shot("items")
    screen.submit(row.locator("a.row-link"))

    # then: the item page shows the node, the red card and the office's forms
    screen.arrived(f"/office/items/{item.pk}/")
    assert " ".join(screen.text("h1").split()) == (
        "FXDX-011 恒达铸造低效用地收储收回项目 2. 完成土地收回补偿协议签订"
    )
    assert page.locator(".heading .light").inner_text() == "红牌"
    assert page.locator("#id_inspected_on").input_value() == clock.today().isoformat()

    # when: it records an on-site inspection with a photo
    page.get_by_label("线下").check()
    page.fill("#id_text", INSPECTION)
    page.set_input_files("#id_files", upload("督查现场.png", photo, "image/png"))
    screen.shot("inspection-form")
    screen.submit(page.get_by_role("button", name="保存督查记录"))

    # then: the record leads the item's timeline, with its photo
    screen.arrived(f"/office/items/{item.pk}/")
    assert screen.toasts() == ["已记录督查情况。"]
    record = InspectionRecord.objects.get(item=item)
    first = page.locator("section ol.timeline > li").first
    assert first.locator(".when").inner_text() == (
        f"{cn_date(clock.today())} · 李娜 · 记录于 {cn_datetime(record.created_at)}"
    )
    assert first.locator(".tag").inner_text() == "线下督查"
    assert first.locator(".record-text").inner_text() == INSPECTION
    assert screen.picture_width(first.locator("img[alt='督查现场.png']")) == 24
    screen.shot("inspected")
    assert (
        record.mode,
        record.inspected_on,
        record.text,
        record.author_id,
    ) == ("offline", clock.today(), INSPECTION, office.pk)
    attachment = InspectionAttachment.objects.get(record__item=item)
    assert (attachment.record_id, attachment.name) == (record.pk, "督查现场.png")
    assert re.fullmatch(r"inspections/\d{4}/\d{2}/[0-9a-f]{32}\.png", attachment.file.name)
    with attachment.file.open("rb") as stored:
        assert stored.read() == photo

    # when: it closes the item (销号) with a note
    close = page.locator(f"form[action='/office/items/{item.pk}/close/']")
    close.locator("textarea[name=note]").fill(CLOSE_NOTE)
    screen.submit(close.get_by_role("button", name="销号"))

    # then: the item says who closed it and when, and offers no more forms
    screen.arrived(f"/office/items/{item.pk}/")
    assert screen.toasts() == ["已销号。"]
    item.refresh_from_db()
    assert " ".join(screen.text(".closed-note").split()) == (
        f"已销号 李娜 于 {cn_datetime(item.closed_at)} 销号。 {CLOSE_NOTE}"
    )
    assert page.locator(".heading .tag").inner_text() == "已销号"
    assert page.locator("form[action*='/office/items/']").count() == 0
    assert screen.no_sideways_scroll()
    screen.shot("closed")
    assert (item.status, item.closed_by_id, item.close_note) == ("closed", office.pk, CLOSE_NOTE)
    assert item.closed_at is not None
    assert InspectionRecord.objects.count() == 1
    assert InspectionAttachment.objects.count() == 1

    # and the priority list no longer holds it
    page = screen.go("/office/items/")
    assert page.locator(f"tr[data-row='{item.pk}']").count() == 0
    assert page.locator("p.empty").inner_text() == "没有符合条件的重点督办事项。"


def test_office_revokes_a_card_and_the_units_score_comes_back(screen):
    # given: a yellow card on a node five days late; the unit lost a point for it
    unit = UnitFactory(name="县住房和城乡建设局")
    project = ProjectFactory(
        code="FXDX-011",
        name="恒达铸造低效用地收储收回项目",
        locality=LocalityFactory(name="花岗镇"),
    )
    due = days_ago(5)
    node = NodeFactory(project=project, seq=1, name="企业签订退出协议", unit=unit, due_date=due)
    office = person("supervisor", username="office_li", full_name="李娜")
    assert sweep_run(as_of=clock.end_of_day_instant(due)).yellow == 1
    card = Card.objects.get(node=node)
    year = clock.local_date(card.breached_at).year
    before = next(s for s in unit_scores(year) if s.unit_id == unit.pk)
    assert (before.points, before.score) == (Decimal("-1.00"), Decimal("99.00"))
    page = screen.login("office_li")

    # when: the office opens the yellow-card list and chooses 撤销 on the card
    page = screen.go("/office/cards/?kind=yellow")
    row = page.locator(f"tr[data-row='{card.pk}']")
    assert row.locator("td[data-label='扣分']").inner_text() == "扣1分"
    screen.shot("yellow-cards")
    screen.submit(row.get_by_role("link", name="撤销"))

    # then: the page says exactly what revoking restores
    screen.arrived(f"/office/cards/{card.pk}/revoke/")
    assert page.locator("#revoke-effects").inner_text() == (
        f"撤销后将返还 县住房和城乡建设局 1分（计入{year}年）。"
    )
    assert " ".join(screen.text(".facts").split()).startswith(
        "类别 黄牌 项目 FXDX-011 恒达铸造低效用地收储收回项目 节点 1. 企业签订退出协议"
    )
    assert screen.no_sideways_scroll()

    # when: it gives the reason and confirms
    page.fill("#id_reason", REVOKE_REASON)
    screen.shot("revoke-form")
    screen.submit(page.get_by_role("button", name="确认撤销"))

    # then: back on the yellow-card list, the card is marked revoked and the point is back
    screen.arrived("/office/cards/?kind=yellow")
    assert screen.toasts() == ["已撤销黄牌，已返还 县住房和城乡建设局 1分。"]
    card.refresh_from_db()
    row = page.locator(f"tr[data-row='{card.pk}']")
    assert " ".join(row.locator("td[data-label='撤销']").inner_text().split()) == (
        f"已撤销 李娜 {cn_date(card.revoked_at)} {REVOKE_REASON}"
    )
    assert row.get_by_role("link", name="撤销").count() == 0
    assert screen.no_sideways_scroll()
    screen.shot("revoked")
    assert (card.revoked_by_id, card.revoke_reason) == (office.pk, REVOKE_REASON)
    assert card.reversal is not None
    assert (card.reversal.points, card.reversal.occurred_at, card.reversal.created_by_id) == (
        Decimal("1.00"),
        card.breached_at,
        office.pk,
    )
    assert PointsEntry.objects.filter(unit=unit).count() == 2
    after = next(s for s in unit_scores(year) if s.unit_id == unit.pk)
    assert (after.points, after.score) == (Decimal("0.00"), Decimal("100.00"))
    assert card.revoked_at is not None
