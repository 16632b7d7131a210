"""The battle map in a real browser: drawn at a desk and on a phone, a marker leads to its
node, and printing it gives an A3 landscape page."""

import pytest

from core import clock
from supervision.services import sweep_run
from tests.browser.conftest import ARTIFACTS, Screen
from tests.browser.support import days_ago, days_ahead, grace_deadline, person
from tests.factories import (
    DisposalLineFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
)
from tests.test_battle_map import media_boxes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The pairs of labels drawn in the same lane of a row (same baseline) that run into each other
# as the browser draws them: their boxes less than 2 px apart (names at a desk, numbers on a
# phone). Lanes are 14 px apart for 11 px text; their boxes (line height) may touch.
OVERLAPS = """() => {
  const crossed = [];
  for (const svg of document.querySelectorAll("svg.bm-svg")) {
    const boxes = [...svg.querySelectorAll("text.bm-name, text.bm-seq")]
      .filter((t) => getComputedStyle(t).display !== "none")
      .map((t) => [t.textContent, t.getAttribute("y"), t.getBoundingClientRect()]);
    boxes.forEach(([a, y, p], i) => boxes.slice(i + 1).forEach(([b, z, q]) => {
      if (y === z && p.left < q.right + 2 && q.left < p.right + 2) {
        crossed.push([a, b]);
      }
    }));
  }
  return crossed;
}"""


def county():
    """A county's map around today: a red card, a yellow card, a moved promise, a node
    done, nodes due soon and later, a node lagging (planned from 180 days ago, due in 60,
    40% reported: 35 points behind its time share), in two towns and two departments; and
    the office."""
    land = UnitFactory(name="县自然资源局")
    housing = UnitFactory(name="县住房和城乡建设局")
    huagang = LocalityFactory(name="花岗镇")
    sanhe = LocalityFactory(name="三河镇")
    projects = [
        ProjectFactory(code="FXDX-011", name="恒达铸造低效用地收储收回项目", locality=huagang),
        ProjectFactory(code="FXDX-012", name="瑞丰新材料嫁接盘活项目", locality=huagang),
        ProjectFactory(
            code="FXDX-021",
            name="三河纺织厂自主提升项目",
            locality=sanhe,
            start_date=days_ago(180),
        ),
    ]
    for project, method in zip(projects, ["takeback", "grafting", "self_upgrade"], strict=True):
        DisposalLineFactory(project=project, method=method)
    red = NodeFactory(
        project=projects[0],
        seq=1,
        name="完成土地收回补偿协议签订",
        unit=land,
        due_date=days_ago(40),
    )
    NodeFactory(
        project=projects[0],
        seq=2,
        name="完成地上附着物清点",
        unit=land,
        due_date=days_ahead(20),
        committed_due_date=days_ahead(55),
        progress=70,
    )
    NodeFactory(
        project=projects[0], seq=3, name="完成土地挂牌出让", unit=housing, due_date=days_ahead(120)
    )
    NodeFactory(
        project=projects[1],
        seq=1,
        name="完成资产评估",
        unit=land,
        due_date=days_ago(30),
        completed_at=clock.now(),
    )
    yellow = NodeFactory(
        project=projects[1], seq=2, name="签订合作协议", unit=housing, due_date=days_ago(1)
    )
    NodeFactory(
        project=projects[1],
        seq=3,
        name="完成设备更新",
        unit=housing,
        due_date=days_ahead(2),
        progress=80,
    )
    lagging = NodeFactory(
        project=projects[2],
        seq=1,
        name="完成技改备案",
        unit=land,
        due_date=days_ahead(60),
        progress=40,
    )
    NodeFactory(
        project=projects[2], seq=2, name="完成竣工验收", unit=land, due_date=days_ahead(200)
    )
    yellow_at = clock.end_of_day_instant(red.due_date)
    sweep_run(as_of=yellow_at)
    sweep_run(as_of=clock.end_of_day_instant(grace_deadline(clock.local_date(yellow_at))))
    sweep_run(as_of=clock.end_of_day_instant(yellow.due_date))
    office = person("supervisor", username="office_map", full_name="李娜")
    return {"red": red, "yellow": yellow, "lagging": lagging, "office": office}


def test_the_battle_map_is_drawn_at_a_desk_and_on_a_phone(screen):
    # given
    world = county()
    violations: list[str] = []
    screen.page.on(
        "console", lambda m: "Content Security Policy" in m.text and violations.append(m.text)
    )
    page = screen.login("office_map")
    # when: the office opens the map from the navigation
    screen.submit(page.locator("nav.mainnav").get_by_role("link", name="挂图作战"))
    # then: three projects, in town order, each with its markers
    screen.arrived("/map/")
    rows = page.locator("tr.bm-row")
    assert [rows.nth(i).get_attribute("data-project") for i in range(rows.count())] == [
        "FXDX-021",
        "FXDX-011",
        "FXDX-012",
    ]
    phone = screen.size == "phone"
    red = page.locator(f"a.bm-node[data-node='{world['red'].pk}']")
    assert red.get_attribute("data-light") == "red"
    assert red.locator("text.bm-mark").inner_html() == "红"
    assert (
        page.locator(f"a.bm-node[data-node='{world['yellow'].pk}']").get_attribute("data-light")
        == "yellow"
    )
    # a lagging node says 滞, dark on orange
    lagging = page.locator(f"a.bm-node[data-node='{world['lagging'].pk}']")
    assert lagging.get_attribute("data-light") == "lagging"
    assert lagging.locator("circle.bm-promise").get_attribute("fill") == "#FA8C16"
    assert lagging.locator("text.bm-mark").inner_html() == "滞"
    assert lagging.locator("text.bm-mark").get_attribute("fill") == "#3d2b00"
    # the months along the top: 2026年10月 at a desk, every other month as 11月 on a phone
    assert page.locator("svg.bm-axis text.bm-tick").first.is_visible() is not phone
    assert page.locator("svg.bm-axis text.bm-tick-short").first.is_visible() is phone
    assert screen.no_sideways_scroll()
    # on a phone the node names give way to their numbers
    name = red.locator("text.bm-name")
    seq = red.locator("text.bm-seq")
    assert (name.is_visible(), seq.is_visible()) == (not phone, phone)
    # no label runs into another (measured as drawn, not as estimated); every marker shows
    assert page.evaluate(OVERLAPS) == []
    assert page.locator("circle.bm-promise").count() == page.locator("a.bm-node").count() == 8
    assert all(circle.is_visible() for circle in page.locator("circle.bm-promise").all())
    screen.shot("map")
    # the filters: open at a desk, folded under 筛选 on a phone until opened
    assert page.locator("form.bm-filters").is_visible() is not phone
    if phone:
        page.locator("details.bm-filter-box > summary").click()
        assert page.locator("form.bm-filters select[name=locality]").is_visible()
    # when: a red marker is clicked
    screen.submit(red.locator("circle.bm-promise"))
    # then: its node's page; and nothing on the map broke the Content-Security-Policy
    screen.arrived(f"/nodes/{world['red'].pk}/")
    assert violations == []


def test_the_battle_map_prints_to_a_pdf_whose_page_is_a3_landscape(browser, live_server):
    # given
    county()
    screen = Screen(browser, live_server, "desk", "test_battle_map_print")
    try:
        page = screen.login("office_map")
        screen.go("/map/")
        # when: printed as the browser prints it
        page.emulate_media(media="print")
        screen.shot("print")
        assert page.locator("nav.mainnav").is_hidden()
        assert page.locator("form.bm-filters").is_hidden()
        assert page.locator("thead .bm-axis").is_visible()
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        # then: every page A3 landscape, 420 × 297 mm
        boxes = media_boxes(pdf)
        assert boxes
        assert {(round(b[2] - b[0]), round(b[3] - b[1])) for b in boxes} == {(1191, 842)}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "test_battle_map_print.pdf").write_bytes(pdf)
        assert not screen.server_errors
    finally:
        screen.close()
