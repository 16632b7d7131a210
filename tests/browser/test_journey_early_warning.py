"""The early warning, in the browser: the leader in charge reads the weekly digest and finds the
lagging node; the unit's staff reports progress and the warning goes out."""

import pytest

from projects.models import Node
from supervision.services.early_warning import lagging_digest_send
from tests.browser.support import days_ago, days_ahead, person
from tests.factories import NodeFactory, ProjectFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_reads_the_digest_and_staff_catches_up(open_screen):
    # given: a township's node whose time is three quarters gone at 10%
    town = UnitFactory(name="桃花镇", kind="township")
    project = ProjectFactory(
        code="FXDX-018", name="宏远机械低效用地收储收回项目", locality=town, start_date=days_ago(60)
    )
    node = NodeFactory(
        project=project,
        seq=1,
        name="与企业协商谈判",
        unit=town,
        due_date=days_ahead(20),
        progress=10,
    )
    person("staff", town, username="staff_taohua", full_name="彭程")
    person("leader", town, username="leader_taohua", full_name="董立军")
    assert lagging_digest_send() == 2
    leader = open_screen("leader")
    page = leader.login("leader_taohua")

    # when: the leader opens the notifications
    leader.submit(page.locator("a.bell"))

    # then: the digest names the node, why, and leads to it
    item = page.locator("ul.notifications > li").first
    assert item.locator(".title").inner_text().strip().endswith("桃花镇：1 个节点进度滞后")
    assert "进度 10%，落后序时进度 65 个百分点" in item.locator(".body").inner_text()
    assert "进度滞后周报" in item.locator(".muted").inner_text()
    leader.shot("digest")
    leader.submit(item.locator(".title a"))
    leader.arrived(f"/nodes/{node.pk}/")
    light = page.locator(".light-lagging").first
    assert light.inner_text().strip() == "进度滞后"
    assert light.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(250, 140, 22)"
    assert leader.no_sideways_scroll()
    leader.shot("node-lagging")

    # when: the unit's staff finds it in the to-do list and reports 80%
    staff = open_screen("staff")
    page = staff.login("staff_taohua")
    staff.arrived("/")
    staff.submit(page.locator(".todo-banner").get_by_role("link", name="我的待办"))
    staff.arrived("/todo/")
    entry = page.locator("li.todo-item", has_text="与企业协商谈判")
    assert entry.locator(".light-lagging").inner_text().strip() == "进度滞后"
    staff.shot("todo-lagging")
    staff.submit(entry.get_by_role("link", name="填报进度"))
    page.fill("#id_percent", "80")
    page.fill("#id_note", "补偿方案已与企业达成一致，正在起草协议。")
    staff.submit(page.get_by_role("button", name="提交进度"))

    # then: 80% is ahead of the 75% of time used: no longer lagging
    staff.arrived(f"/nodes/{node.pk}/")
    assert page.locator(".node-title .light").inner_text().strip() == "正常推进"
    assert Node.objects.get(pk=node.pk).progress == 80
    staff.shot("caught-up")
