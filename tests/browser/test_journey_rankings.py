"""Rankings in the browser: the office reads the ranking, opens a unit's entries with the card
behind each, records a bonus (a mistake first, kept in the form), and the ranking moves."""

from decimal import Decimal

import pytest

from core import clock
from scoring.choices import EntryKind
from scoring.models import PointsEntry
from supervision.services import sweep_run
from tests.browser.support import days_ago, person
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "在全省节点工作法现场推进会上作典型发言，经县委督查室研究给予加分。"


def test_office_reads_the_ranking_and_records_a_bonus(screen):
    # given: two departments; 县住房和城乡建设局 has a yellow card this year
    housing = UnitFactory(name="县住房和城乡建设局")
    UnitFactory(name="县自然资源和规划局")
    LocalityFactory(name="花岗镇")
    year = clock.today().year
    due = days_ago(3) if days_ago(3).year == year else clock.today()
    node = NodeFactory(
        project=ProjectFactory(code="FXDX-011", name="恒达铸造低效用地收储收回项目"),
        seq=2,
        name="完成土地收回补偿协议签订",
        unit=housing,
        due_date=due,
    )
    sweep_run()
    person("supervisor", username="office_li", full_name="李娜")
    page = screen.login("office_li")

    # when: the office opens 排名 from the navigation
    screen.submit(page.locator("nav.mainnav").get_by_role("link", name="排名"))

    # then: departments ranked, the carded one second with its yellow card
    screen.arrived("/rankings/")
    rows = page.locator("table.ranking-list").first.locator("tbody tr")
    if node.due_date < clock.today():
        assert (
            rows.nth(0)
            .locator("td[data-label='单位']")
            .inner_text()
            .startswith("县自然资源和规划局")
        )
        second = rows.nth(1)
        assert second.locator("td[data-label='排名']").inner_text() == "2"
        assert second.locator("td[data-label='得分']").inner_text() == "99"
        assert second.locator("td[data-label='黄牌']").inner_text() == "1"
    assert page.get_by_role("link", name="导出 Excel").is_visible()
    assert screen.no_sideways_scroll()
    screen.shot("ranking")

    # when: it opens the unit and sends a bonus with a negative value
    screen.submit(page.get_by_role("link", name="县住房和城乡建设局"))
    assert screen.path().startswith(f"/rankings/unit/{housing.pk}/")
    page.get_by_label("分值").fill("-2")
    page.get_by_label("事由").fill(REASON)
    screen.submit(page.get_by_role("button", name="记录"))

    # then: the error beside the value, and what it typed is still there
    assert "加分须大于0。" in screen.text(".record-form")
    assert page.get_by_label("事由").input_value() == REASON
    screen.shot("entry-refused")

    # when: it corrects the value
    page.get_by_label("分值").fill("2")
    screen.submit(page.get_by_role("button", name="记录"))

    # then: back on the unit's page, the bonus listed with its reason and who recorded it
    assert screen.toasts() == ["已记录。"]
    bonus = PointsEntry.objects.get(kind=EntryKind.BONUS)
    assert (bonus.points, bonus.reason, bonus.created_by.full_name) == (
        Decimal("2.00"),
        REASON,
        "李娜",
    )
    row = page.locator(f"tr[data-entry='{bonus.pk}']")
    assert REASON in row.inner_text()
    assert "李娜" in row.locator("td[data-label='记录人']").inner_text()
    assert screen.no_sideways_scroll()
    screen.shot("unit-entries")

    # when: back to the ranking
    screen.submit(page.locator(".crumbs a"))
    # then: the unit's score counts the bonus
    row = page.locator(f"tr[data-unit='{housing.pk}']")
    expected = "101" if node.due_date < clock.today() else "102"
    assert row.locator("td[data-label='得分']").inner_text() == expected
    assert row.locator("td[data-label='加分']").inner_text() == "+2"
