"""Leaders, in the browser: one tap approves a recommitment; a second leader sees who did."""

import pytest

from core import clock
from core.templatetags.core_tags import cn_date, cn_datetime
from projects.models import Node
from supervision.models import Recommitment
from supervision.services import recommitment_submit, sweep_run
from tests.browser.support import days_ago, days_ahead, person
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "县政府常务会议推迟至下周召开，收回方案未能按期上会。"


def test_leader_approves_from_the_inbox_and_a_second_leader_sees_it_decided(screen, open_screen):
    # given: a yellow-carded node whose unit asked for a new date
    unit = UnitFactory(name="县自然资源和规划局")
    project = ProjectFactory(
        code="FXDX-004",
        name="华联包装低效用地收储收回项目",
        locality=LocalityFactory(name="上派镇"),
    )
    node = NodeFactory(
        project=project, seq=3, name="收回方案报县政府审批", unit=unit, due_date=days_ago(1)
    )
    staff = person("staff", unit, username="staff_zrj", full_name="陈涛")
    leader = person("leader", unit, username="leader_wang", full_name="王立新")
    person("principal", username="principal_zhou", full_name="周振华")
    assert sweep_run(as_of=clock.now()).yellow == 1
    new_date = days_ahead(14)
    rec = recommitment_submit(node=node, actor=staff, reason=REASON, new_due_date=new_date)
    # the principal leader has the inbox open already
    second = open_screen("principal")
    second.login("principal_zhou")
    stale = second.go("/approvals/")
    assert stale.locator(f"#rec-{rec.pk}").get_by_role("button", name="同意").count() == 1
    second.shot("inbox-before")

    # when: the leader in charge opens the inbox
    page = screen.login("leader_wang")
    page = screen.go("/approvals/")

    # then: one card says what, why, the date asked for and the unit's record this year
    card = page.locator(f"#rec-{rec.pk}")
    assert " ".join(card.locator(".approval-node").inner_text().split()) == "收回方案报县政府审批"
    assert card.locator(".approval-project").inner_text() == "FXDX-004 华联包装低效用地收储收回项目"
    assert card.locator(".approval-date").inner_text() == cn_date(new_date)
    assert card.locator(".approval-reason p").inner_text() == REASON
    assert " ".join(card.locator(".unit-cards").inner_text().split()) == (
        "黄牌 1 张 红牌 0 张 （县自然资源和规划局）"
    )
    assert " ".join(card.locator("header .cell-meta").inner_text().split()) == (
        f"县自然资源和规划局 · 陈涛 于 {cn_datetime(rec.submitted_at)} 提交"
    )
    badge = page.locator("h1 .count")
    assert badge.inner_text() == "1"
    # white on the purple of 待审批 (an office list's grey count once painted over it)
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    approve = card.get_by_role("button", name="同意")
    assert approve.bounding_box()["height"] >= 44
    assert screen.no_sideways_scroll()
    screen.shot("inbox")

    # when: one tap on 同意
    screen.submit(approve)

    # then: the request has left the inbox and is listed as decided by this leader
    screen.arrived("/approvals/")
    assert screen.toasts() == [f"已同意：“收回方案报县政府审批”承诺于{cn_date(new_date)}前完成。"]
    assert page.locator("article.approval").count() == 0
    assert page.locator("p.empty").inner_text() == "暂无待您审批的重新承诺。"
    rec.refresh_from_db()
    decided = f"王立新 于 {cn_datetime(rec.decided_at)} 同意"
    assert page.locator(f"#rec-{rec.pk} .decided-by").inner_text() == decided
    assert page.locator(f"#rec-{rec.pk} .decision").inner_text() == "已批准"
    assert screen.no_sideways_scroll()
    screen.shot("approved")
    assert (rec.status, rec.decided_by_id, rec.comment) == ("approved", leader.pk, "")
    node = Node.objects.get(pk=node.pk)
    assert node.committed_due_date == new_date

    # when: the principal leader taps 同意 on the page opened before
    second.submit(stale.locator(f"#rec-{rec.pk}").get_by_role("button", name="同意"))

    # then: told who decided and that nothing was sent; no live button is left for it
    assert second.toasts() == [
        f"王立新已于{cn_datetime(rec.decided_at)}审批该申请（已批准），您的审批未提交，未作任何更改。"
    ]
    assert stale.locator(f"#rec-{rec.pk} .decided-by").inner_text() == decided
    assert stale.locator(f"form[action='/approvals/{rec.pk}/decide/']").count() == 0
    assert stale.locator("article.approval").count() == 0
    second.shot("inbox-after-stale-tap")

    # when: the principal leader opens the inbox afresh
    fresh = second.go("/approvals/")

    # then: the same, and the decision stands as the first leader made it
    assert fresh.locator("p.empty").inner_text() == "暂无待您审批的重新承诺。"
    assert fresh.locator(f"#rec-{rec.pk} .decided-by").inner_text() == decided
    assert fresh.get_by_role("button", name="同意").count() == 0
    assert second.no_sideways_scroll()
    second.shot("inbox-decided")
    assert list(
        Recommitment.objects.values_list("pk", "status", "decided_by_id", "decided_at")
    ) == [(rec.pk, "approved", leader.pk, rec.decided_at)]
    assert Node.objects.get(pk=node.pk).committed_due_date == new_date
