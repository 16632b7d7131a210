"""The dashboard in the browser: a leader reads it, its charts draw under the policy, and a
count leads to the list it counts; then the same dashboard as it stood three days ago."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from core import clock
from organization.models import User
from projects.models import Node
from supervision.services import node_complete, sweep_run
from tests.browser.support import days_ago, days_ahead, person
from tests.factories import (
    DisposalLineFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def world(due: list[dt.date]) -> list[Node]:
    """The land department's two projects in 上派镇 and their four nodes, due on `due`."""
    unit = UnitFactory(name="县自然资源和规划局")
    town = LocalityFactory(name="上派镇")
    first = ProjectFactory(code="FXDX-004", name="华联包装低效用地收储收回项目", locality=town)
    second = ProjectFactory(code="FXDX-021", name="金鼎机械嫁接盘活项目", locality=town)
    DisposalLineFactory(project=first, method="takeback", area_mu=Decimal("56.30"))
    DisposalLineFactory(project=second, method="grafting", area_mu=Decimal("120.00"))
    DisposalLineFactory(project=second, method="self_upgrade", area_mu=Decimal("30.50"))
    person("staff", unit, username="staff_zrj", full_name="陈涛")
    person("leader", unit, username="leader_wang", full_name="王立新")
    return [
        NodeFactory(project=first, seq=1, name="摸底调查", unit=unit, due_date=due[0]),
        NodeFactory(project=first, seq=2, name="评估报告", unit=unit, due_date=due[1]),
        NodeFactory(project=second, seq=1, name="资产评估报告", unit=unit, due_date=due[2]),
        NodeFactory(project=second, seq=2, name="招引意向企业", unit=unit, due_date=due[3]),
    ]


def test_a_leader_reads_the_dashboard_and_follows_a_count_to_its_list(screen):
    # given: the nodes set up five days ago; today one is done and two are yellow-carded
    due = [days_ahead(5), days_ago(2), days_ago(1), days_ahead(40)]
    with time_machine.travel(clock.now() - dt.timedelta(days=5), tick=True):
        nodes = world(due)
    done, late = nodes[0], nodes[1:3]
    node_complete(node=done, actor=User.objects.get(username="staff_zrj"), note="已完成。")
    assert sweep_run(as_of=clock.now()).yellow == 2
    violations: list[str] = []
    screen.page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and violations.append(m.text),
    )

    # when: the leader signs in
    page = screen.login("leader_wang")

    # then: the dashboard is the home page, with the disposal table and the lights
    assert screen.path() == "/"
    assert screen.text("#disposal tfoot") == "合计（不重复项目） 2 206.80"
    assert screen.text('#disposal tr[data-method="grafting"]') == "嫁接盘活 1 120.00"
    assert screen.text('#lights tr[data-light="yellow"]') == "黄牌 2"
    assert screen.text('#lights tr[data-light="done"]') == "已完成 1"
    assert screen.text('#cards [data-figure="yellow"]') == "2"
    # the charts are drawn by the vendored ECharts, beside their tables
    page.wait_for_selector("#chart-lights svg")
    page.wait_for_selector("#chart-weeks svg")
    page.wait_for_selector("#chart-ages svg")
    assert screen.no_sideways_scroll()
    screen.shot("dashboard")

    # when: the leader follows the yellow count
    screen.submit(page.locator('#lights tr[data-light="yellow"] a'))

    # then: the node list, filtered by the light in its URL, lists the two late nodes
    assert screen.path() == "/nodes/?light=yellow"
    rows = page.locator("table.node-list tbody tr")
    assert sorted(int(r.get_attribute("data-row")) for r in rows.all()) == sorted(
        n.pk for n in late
    )
    assert page.locator("select[name=light]").input_value() == "yellow"
    assert screen.no_sideways_scroll()
    screen.shot("node-list")

    # when: the dashboard as it stood three days ago
    page = screen.go(f"/?as_of={days_ago(3):%Y-%m-%d}")

    # then: no card yet, the node completed since still open; of the late ones, one then
    # due soon, the other lagging (2 of its 4 days gone, nothing reported)
    assert screen.text('#lights tr[data-light="yellow"]') == "黄牌 0"
    assert screen.text('#lights tr[data-light="done"]') == "已完成 0"
    assert screen.text('#lights tr[data-light="lagging"]') == "进度滞后 1"
    assert screen.text('#lights tr[data-light="due_soon"]') == "即将到期 1"
    assert screen.text('#lights tr[data-light="on_track"]') == "正常推进 2"
    assert page.locator(".tag-history").count() == 1
    screen.shot("as-of")
    assert violations == []
