"""Leaders' pages: the approval inbox and its decisions, 我的包保, and notifications that lead
to the work."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from organization.models import Coverage, RoleAssignment
from projects.models import Node
from scoring.models import PointsEntry
from supervision.choices import Light
from supervision.models import Card, Notification, Recommitment
from supervision.services import (
    card_revoke,
    node_complete,
    recommitment_decide,
    recommitment_submit,
    sweep_run,
)
from tests.factories import (
    EnterpriseFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    make_user,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)  # a Monday
REASON = "企业对补偿标准有异议，正在第三方复评。\n预计两周内达成一致。"


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unit():
    return UnitFactory(name="县自然资源和规划局")


@pytest.fixture
def people(unit):
    def named(user, full_name):
        user.full_name = full_name
        user.save()
        return user

    return {
        "staff": named(make_user("staff", unit, username="staff"), "陈涛"),
        "leader": named(make_user("leader", unit, username="leader"), "王立新"),
        "other_leader": named(
            make_user("leader", UnitFactory(name="县住建局"), username="other_leader"), "张建平"
        ),
        "principal": named(make_user("principal", username="principal"), "周振华"),
        "supervisor": named(make_user("supervisor", username="supervisor"), "孙丽"),
    }


def yellow(node, *, on: str = "2026-11-27 00:00"):
    sweep_run(as_of=at(on))
    return node


@pytest.fixture
def pending(unit, people):
    """A yellow-carded node of the unit with a pending recommitment, submitted by its staff."""
    project = ProjectFactory(code="FXDX-002", name="瑞丰新材料低效用地收储收回项目")
    node = yellow(
        NodeFactory(
            project=project, unit=unit, name="签订土地收回协议", due_date=dt.date(2026, 11, 26)
        )
    )
    return recommitment_submit(
        node=node, actor=people["staff"], reason=REASON, new_due_date=dt.date(2026, 12, 20)
    )


def snapshot():
    return (
        list(
            Recommitment.objects.order_by("pk").values_list(
                "id", "status", "decided_by_id", "decided_at", "comment"
            )
        ),
        list(Node.objects.order_by("pk").values_list("id", "committed_due_date")),
        list(Card.objects.order_by("pk").values_list("id", "revoked_at")),
        PointsEntry.objects.count(),
        Notification.objects.count(),
    )


def decide_url(rec) -> str:
    return reverse("approval-decide", args=[rec.pk])


# ---- the approval inbox ----------------------------------------------------------------


def test_the_leader_in_charge_sees_the_request_with_everything_needed_to_decide(
    client, people, pending
):
    # given
    client.force_login(people["leader"])
    # when
    response = client.get(reverse("approvals"))
    # then
    assert response.status_code == 200
    assert [r.pk for r in response.context["pending"]] == [pending.pk]
    rec = response.context["pending"][0]
    assert rec.unit_cards == {"yellow": 1, "red": 0}
    assert [e.message for e in rec.events] == [
        "提交重新承诺：12月20日（周日）前完成",
        "黄牌：超过计划完成时间 11月26日，扣1分",
    ]
    body = response.content.decode()
    assert f'id="rec-{pending.pk}"' in body
    assert "FXDX-002</a> 瑞丰新材料低效用地收储收回项目" in body
    assert "签订土地收回协议" in body
    assert "县自然资源和规划局 · 陈涛 于 11月30日（周一）10:00 提交" in body
    assert "企业对补偿标准有异议，正在第三方复评。<br>预计两周内达成一致。" in body
    assert '<div class="approval-date">12月20日（周日）</div>' in body
    assert '<div class="approval-hint">还剩 14 个工作日</div>' in body
    assert "<dt>计划</dt><dd>11月26日（周四）</dd>" in body
    assert "黄牌 1 张" in body and "红牌 0 张" in body
    assert reverse("node", args=[pending.node_id]) in body
    assert body.count(f'action="{decide_url(pending)}"') == 2  # 同意, and 驳回 in its sheet
    assert 'name="comment"' in body


def test_the_units_cards_count_only_this_years_cards_in_force(
    client, frozen, unit, people, pending
):
    # given: a card of last year, a revoked one, and a red card this year, all of the unit
    frozen.move_to(at("2025-06-20 09:00"))
    last_year = NodeFactory(unit=unit, due_date=dt.date(2025, 6, 10))
    sweep_run(as_of=at("2025-06-11 00:00"))
    sweep_run(as_of=at("2025-06-20 00:00"))
    assert Card.objects.filter(node=last_year).count() == 2
    frozen.move_to(NOW)
    revoked = yellow(NodeFactory(unit=unit, due_date=dt.date(2026, 11, 2)), on="2026-11-03 00:00")
    card_revoke(
        card=Card.objects.get(node=revoked), actor=people["supervisor"], reason="节点时间录入错误"
    )
    red = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 10))
    sweep_run(as_of=at("2026-11-11 00:00"))
    sweep_run(as_of=at("2026-11-17 00:00"))
    assert list(Card.objects.filter(node=red).values_list("kind", flat=True).order_by("kind")) == [
        "red",
        "yellow",
    ]
    client.force_login(people["leader"])
    # when
    rec = client.get(reverse("approvals")).context["pending"][0]
    # then: the pending node's yellow and the red node's yellow and red
    assert rec.unit_cards == {"yellow": 2, "red": 1}


def test_a_principal_sees_every_units_requests_oldest_first(client, frozen, people, pending):
    # given
    frozen.move_to(NOW + dt.timedelta(hours=1))
    other_unit = UnitFactory(name="县住建局")
    node = yellow(NodeFactory(unit=other_unit, due_date=dt.date(2026, 11, 26)))
    other_staff = make_user("staff", other_unit)
    later = recommitment_submit(
        node=node, actor=other_staff, reason="图纸变更", new_due_date=dt.date(2026, 12, 18)
    )
    client.force_login(people["principal"])
    # when
    response = client.get(reverse("approvals"))
    # then
    assert [r.pk for r in response.context["pending"]] == [pending.pk, later.pk]
    assert response.context["pending"][1].unit_cards == {"yellow": 1, "red": 0}


def test_another_leader_sees_nothing_of_the_unit(client, people, pending):
    client.force_login(people["other_leader"])
    response = client.get(reverse("approvals"))
    assert response.status_code == 200
    assert response.context["pending"] == []
    body = response.content.decode()
    assert "签订土地收回协议" not in body and "暂无待您审批的重新承诺。" in body


@pytest.mark.parametrize("role", ["staff", "supervisor"])
def test_the_inbox_is_refused_to_staff_and_the_office(client, people, pending, role):
    """Only leaders decide: staff and the supervision office get the 403 page."""
    client.force_login(people[role])
    response = client.get(reverse("approvals"))
    assert response.status_code == 403
    assert "只有分管领导或主要领导可以打开此页面。" in response.content.decode()


def test_the_inbox_needs_a_sign_in(client, pending):
    response = client.get(reverse("approvals"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_inbox_answers_in_a_fixed_number_of_queries(
    client, frozen, people, unit, pending, django_assert_max_num_queries
):
    # given: one request, counted; then four more of other units, each with its own history
    client.force_login(people["principal"])
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("approvals"))
    for i in range(4):
        other = UnitFactory(name=f"乡镇{i}")
        node = yellow(NodeFactory(unit=other, due_date=dt.date(2026, 11, 26)))
        recommitment_submit(
            node=node,
            actor=make_user("staff", other),
            reason="原因",
            new_due_date=dt.date(2026, 12, 20),
        )
        recommitment_decide(
            recommitment=recommitment_submit(
                node=yellow(NodeFactory(unit=other, due_date=dt.date(2026, 11, 25))),
                actor=make_user("staff", other),
                reason="原因",
                new_due_date=dt.date(2026, 12, 21),
            ),
            actor=people["principal"],
            approve=True,
        )
    # when / then
    with django_assert_max_num_queries(len(one)):
        response = client.get(reverse("approvals"))
    assert len(response.context["pending"]) == 5
    assert len(response.context["decided"]) == 4


# ---- deciding ----------------------------------------------------------------------------


def test_approve_in_one_tap_sets_the_committed_date(client, people, pending):
    # given
    client.force_login(people["leader"])
    # when
    response = client.post(decide_url(pending), {"decision": "approve"})
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("approvals")
    rec = Recommitment.objects.get(pk=pending.pk)
    assert (rec.status, rec.decided_by, rec.decided_at, rec.comment) == (
        "approved",
        people["leader"],
        NOW,
        "",
    )
    assert Node.objects.get(pk=pending.node_id).committed_due_date == dt.date(2026, 12, 20)
    page = client.get(reverse("approvals")).content.decode()
    assert "已同意：“签订土地收回协议”承诺于12月20日（周日）前完成。" in page
    assert "王立新 于 11月30日（周一）10:00 同意" in page


def test_reject_with_a_comment(client, people, pending):
    # given
    client.force_login(people["principal"])
    # when
    response = client.post(
        decide_url(pending), {"decision": "reject", "comment": "  新日期过晚，请12月10日前完成。 "}
    )
    # then
    assert response.status_code == 302
    rec = Recommitment.objects.get(pk=pending.pk)
    assert (rec.status, rec.decided_by, rec.decided_at, rec.comment) == (
        "rejected",
        people["principal"],
        NOW,
        "新日期过晚，请12月10日前完成。",
    )
    assert Node.objects.get(pk=pending.node_id).committed_due_date is None
    page = client.get(reverse("approvals")).content.decode()
    assert "已驳回：“签订土地收回协议”，已通知陈涛。" in page
    assert "周振华 于 11月30日（周一）10:00 驳回：新日期过晚，请12月10日前完成。" in page


@pytest.mark.parametrize("comment", ["", "   "])
def test_reject_without_a_comment_keeps_the_sheet_open_and_changes_nothing(
    client, people, pending, comment
):
    # given
    client.force_login(people["leader"])
    before = snapshot()
    # when
    response = client.post(decide_url(pending), {"decision": "reject", "comment": comment})
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "驳回时须填写审批意见。" in body
    assert '<details class="sheet" open>' in body
    assert snapshot() == before


def test_a_long_comment_keeps_what_was_typed(client, people, pending):
    client.force_login(people["leader"])
    before = snapshot()
    response = client.post(decide_url(pending), {"decision": "reject", "comment": "长" * 2001})
    assert response.status_code == 200
    body = response.content.decode()
    assert "长" * 2001 in body and '<details class="sheet" open>' in body
    assert snapshot() == before


def test_a_decision_after_another_leader_decided_says_who_and_changes_nothing(
    client, frozen, people, pending
):
    # given: the principal approved first, a minute before
    recommitment_decide(recommitment=pending, actor=people["principal"], approve=True)
    frozen.move_to(NOW + dt.timedelta(minutes=1))
    before = snapshot()
    client.force_login(people["leader"])
    # when
    response = client.post(
        decide_url(pending), {"decision": "reject", "comment": "请补充材料"}, follow=True
    )
    # then
    assert snapshot() == before
    body = response.content.decode()
    assert (
        "周振华已于11月30日（周一）10:00审批该申请（已批准），您的审批未提交，未作任何更改。"
        in body
    )
    assert response.context["pending"] == []
    assert [r.pk for r in response.context["decided"]] == [pending.pk]
    assert f'action="{decide_url(pending)}"' not in body  # never a live button
    assert "周振华 于 11月30日（周一）10:00 同意" in body


def test_a_second_tap_by_the_same_leader_changes_nothing(client, frozen, people, pending):
    # given
    client.force_login(people["leader"])
    client.post(decide_url(pending), {"decision": "approve"})
    frozen.move_to(NOW + dt.timedelta(seconds=5))
    before = snapshot()
    # when
    response = client.post(decide_url(pending), {"decision": "approve"}, follow=True)
    # then
    assert "您已于11月30日（周一）10:00审批该申请（已批准），无需再次提交。" in (
        response.content.decode()
    )
    assert snapshot() == before


def test_an_item_decided_meanwhile_shows_who_decided_it_and_no_button(client, people, pending):
    recommitment_decide(
        recommitment=pending, actor=people["principal"], approve=False, comment="理由不充分"
    )
    client.force_login(people["leader"])
    body = client.get(reverse("approvals")).content.decode()
    assert f'<li id="rec-{pending.pk}">' in body
    assert "周振华 于 11月30日（周一）10:00 驳回：理由不充分" in body
    assert f'action="{decide_url(pending)}"' not in body


def test_the_submitter_who_is_also_a_leader_gets_no_buttons(client, unit, people):
    """Nobody decides a recommitment they submitted (domain rule 2)."""
    # given: a person who is both staff and leader in charge of the unit submits
    both = make_user("staff", unit, username="both")
    RoleAssignment.objects.create(user=both, role="leader", unit=unit)
    node = yellow(NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26)))
    rec = recommitment_submit(
        node=node, actor=both, reason="原因", new_due_date=dt.date(2026, 12, 20)
    )
    client.force_login(both)
    # when
    body = client.get(reverse("approvals")).content.decode()
    # then
    assert f'id="rec-{rec.pk}"' in body
    assert "这是您提交的申请，须由其他领导审批。" in body
    assert f'action="{decide_url(rec)}"' not in body
    # and a hand-made post is refused with nothing changed
    before = snapshot()
    response = client.post(decide_url(rec), {"decision": "approve"})
    assert response.status_code == 403
    assert snapshot() == before
    # while the other leader in charge still decides it
    client.force_login(people["leader"])
    assert f'action="{decide_url(rec)}"' in client.get(reverse("approvals")).content.decode()


@pytest.mark.parametrize(
    ("role", "status"), [("other_leader", 404), ("staff", 403), ("supervisor", 403)]
)
def test_a_decision_outside_ones_charge_is_refused_with_nothing_changed(
    client, people, pending, role, status
):
    client.force_login(people[role])
    before = snapshot()
    response = client.post(decide_url(pending), {"decision": "approve"})
    assert response.status_code == status
    assert snapshot() == before


def test_a_decision_needs_a_sign_in(client, pending):
    before = snapshot()
    response = client.post(decide_url(pending), {"decision": "approve"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before


def test_approving_a_date_already_passed_says_so_and_changes_nothing(
    client, frozen, people, pending
):
    # given: the requested date has passed while the request waited
    frozen.move_to(at("2026-12-21 09:00"))
    before = snapshot()
    client.force_login(people["leader"])
    # when
    response = client.post(decide_url(pending), {"decision": "approve"}, follow=True)
    # then
    assert "承诺完成时间已过，不能批准，请驳回后由单位重新提交。" in response.content.decode()
    assert snapshot() == before


def test_an_unknown_decision_keeps_everything(client, people, pending):
    client.force_login(people["leader"])
    before = snapshot()
    response = client.post(decide_url(pending), {"decision": "maybe"})
    assert response.status_code == 200
    assert snapshot() == before


def test_deciding_is_post_only(client, people, pending):
    client.force_login(people["leader"])
    assert client.get(decide_url(pending)).status_code == 405


# ---- 我的包保 ------------------------------------------------------------------------------


@pytest.fixture
def covered(people):
    """A leader covering a locality, an enterprise and a project, and leading a fourth."""
    leader = people["other_leader"]
    town, firm = LocalityFactory(name="上派镇"), EnterpriseFactory(name="瑞丰新材料有限公司")
    dept = UnitFactory(name="县财政局")
    in_town = ProjectFactory(code="FXDX-001", name="宏远机械项目", locality=town)
    of_firm = ProjectFactory(code="FXDX-002", name="瑞丰新材料项目", enterprise=firm)
    named = ProjectFactory(code="FXDX-003", name="金泰塑胶项目")
    led = ProjectFactory(code="FXDX-004", name="华联包装项目", leader=leader)
    elsewhere = ProjectFactory(code="FXDX-005", name="别处的项目")
    Coverage.objects.create(leader=leader, target="locality", locality=town)
    Coverage.objects.create(leader=leader, target="enterprise", enterprise=firm)
    Coverage.objects.create(leader=leader, target="project", project=named)
    done = NodeFactory(project=in_town, seq=1, unit=dept, due_date=dt.date(2026, 11, 20))
    node_complete(node=done, actor=make_user("staff", dept), note="已办结")
    # due soon, but lagging: 10 of its 12 days since the first node's date gone, nothing reported
    NodeFactory(project=in_town, seq=2, unit=town, due_date=dt.date(2026, 12, 2))
    yellow(NodeFactory(project=of_firm, seq=1, unit=dept, due_date=dt.date(2026, 11, 26)))
    NodeFactory(project=named, seq=1, unit=dept, due_date=dt.date(2026, 12, 30))
    NodeFactory(project=led, seq=1, unit=dept, due_date=dt.date(2026, 12, 30))
    NodeFactory(project=elsewhere, seq=1, unit=dept, due_date=dt.date(2026, 12, 1))
    return leader


def test_coverage_shows_what_the_leader_covers_with_its_lights(client, covered):
    # given
    client.force_login(covered)
    # when
    response = client.get(reverse("coverage"))
    # then
    assert response.status_code == 200
    overview = response.context["overview"]
    assert [p.code for p in overview.projects] == ["FXDX-001", "FXDX-002", "FXDX-003", "FXDX-004"]
    assert [
        (g.target.name, [p.code for p in g.projects], g.lights) for g in overview.localities
    ] == [("上派镇", ["FXDX-001"], [(Light.LAGGING, 1), (Light.DONE, 1)])]
    assert [
        (g.target.name, [p.code for p in g.projects], g.lights) for g in overview.enterprises
    ] == [("瑞丰新材料有限公司", ["FXDX-002"], [(Light.YELLOW, 1)])]
    assert [(g.target.code, g.lights) for g in overview.covered_projects] == [
        ("FXDX-003", [(Light.ON_TRACK, 1)])
    ]
    assert [p.code for p in overview.led_projects] == ["FXDX-004"]
    assert overview.lights == [
        (Light.YELLOW, 1),
        (Light.LAGGING, 1),
        (Light.ON_TRACK, 2),
        (Light.DONE, 1),
    ]
    body = response.content.decode()
    assert "别处的项目" not in body
    assert "4 个项目" in body
    assert 'class="light light-yellow"' in body
    assert 'class="light light-lagging"' in body


def test_coverage_of_a_leader_with_none_says_so(client, people, covered):
    client.force_login(people["principal"])
    response = client.get(reverse("coverage"))
    assert response.status_code == 200
    assert response.context["overview"].projects == []
    assert "暂无包保对象。" in response.content.decode()


@pytest.mark.parametrize("role", ["staff", "supervisor"])
def test_coverage_is_for_leaders(client, people, role):
    client.force_login(people[role])
    assert client.get(reverse("coverage")).status_code == 403


def test_coverage_needs_a_sign_in(client):
    response = client.get(reverse("coverage"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_coverage_answers_in_a_fixed_number_of_queries(
    client, covered, django_assert_max_num_queries
):
    # given
    client.force_login(covered)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("coverage"))
    town = LocalityFactory(name="桃花镇")
    Coverage.objects.create(leader=covered, target="locality", locality=town)
    for _i in range(5):
        project = ProjectFactory(locality=town, enterprise=EnterpriseFactory())
        Coverage.objects.create(leader=covered, target="enterprise", enterprise=project.enterprise)
        for seq in (1, 2, 3):
            NodeFactory(project=project, seq=seq, unit=town)
    # when / then
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("coverage"))
    assert len(response.context["overview"].projects) == 9


# ---- notifications lead to the work -------------------------------------------------------


def test_every_notification_links_to_where_its_work_is_done(client, people, pending):
    # given: the leader was told of the waiting request; the staff of the card and the decision
    recommitment_decide(recommitment=pending, actor=people["principal"], approve=True)
    Notification.objects.create(
        recipient=people["staff"],
        kind="reminder",
        event_key="reminder:x",
        node=pending.node,
        title="节点将于 12月2日 到期",
        created_at=NOW,
    )
    node_url = reverse("node", args=[pending.node_id])
    # when
    client.force_login(people["leader"])
    leader_page = client.get(reverse("notifications")).content.decode()
    client.force_login(people["staff"])
    staff_page = client.get(reverse("notifications")).content.decode()
    # then
    waiting = Notification.objects.get(recipient=people["leader"], kind="recommitment_waiting")
    assert waiting.event_key == f"recommitment:{pending.pk}:waiting"
    assert f'href="{reverse("approvals")}#rec-{pending.pk}"' in leader_page
    assert "去审批" in leader_page
    kinds = set(
        Notification.objects.filter(recipient=people["staff"]).values_list("kind", flat=True)
    )
    assert kinds == {"card_issued", "recommitment_decided", "reminder"}
    assert staff_page.count(f'href="{node_url}"') == 2 * 3  # title and 查看节点, for each
    assert f'href="{reverse("approvals")}' not in staff_page


def test_a_notification_without_a_node_has_no_link(client, people):
    Notification.objects.create(
        recipient=people["staff"],
        kind="reminder",
        event_key="k",
        title="系统维护通知",
        created_at=NOW,
    )
    client.force_login(people["staff"])
    body = client.get(reverse("notifications")).content.decode()
    assert "系统维护通知" in body and "查看节点" not in body
