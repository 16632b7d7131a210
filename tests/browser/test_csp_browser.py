"""The Content-Security-Policy in a real browser: the pages work under it and break none of it."""

import pytest

from core import clock
from supervision.services import recommitment_submit, sweep_run
from tests.browser.support import days_ago, days_ahead, person
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pages_run_under_the_policy_without_a_violation(screen, open_screen):
    # given: a yellow-carded node whose unit asked for a new date, 40% done
    unit = UnitFactory(name="县自然资源和规划局")
    project = ProjectFactory(code="FXDX-004", locality=LocalityFactory(name="上派镇"))
    node = NodeFactory(project=project, seq=3, unit=unit, due_date=days_ago(1), progress=40)
    staff = person("staff", unit, username="staff_zrj", full_name="陈涛")
    person("leader", unit, username="leader_wang", full_name="王立新")
    assert sweep_run(as_of=clock.now()).yellow == 1
    rec = recommitment_submit(
        node=node, actor=staff, reason="会议推迟。", new_due_date=days_ahead(9)
    )
    violations: list[str] = []
    screen.page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and violations.append(m.text),
    )

    # when: the leader opens the reject sheet and cancels it
    screen.login("leader_wang")
    page = screen.go("/approvals/")
    card = page.locator(f"#rec-{rec.pk}")
    card.locator("details.sheet summary").click()
    opened = card.locator("details.sheet").evaluate("d => d.open")
    card.locator("[data-close-details]").click()

    # then: the sheet closes in place, by the site's own script, not by reloading
    assert opened is True
    assert card.locator("details.sheet").evaluate("d => d.open") is False
    assert screen.path() == "/approvals/"
    assert page.evaluate("window.htmx.config.allowEval") is False

    # when: the staff member opens the node
    screen.logout()
    screen.login("staff_zrj")
    page = screen.go(f"/nodes/{node.pk}/")

    # then: the progress meter shows 40% without an inline style
    assert page.locator("progress.meter").evaluate("p => p.value") == 40
    assert violations == []
