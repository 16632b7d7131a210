"""The project list with its filters, and the project page: scoped exactly as the API."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.audit import audited_save
from organization.models import Coverage, RoleAssignment
from projects.models import DisposalLine, Node, Project
from supervision.choices import Light
from supervision.selectors import light_of, nodes_with_light
from supervision.services import (
    card_revoke,
    node_complete,
    recommitment_submit,
    sweep_run,
)
from tests.factories import (
    DisposalLineFactory,
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


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(frozen):
    """Three projects in two localities, nodes of two departments, and every light."""
    zrj, czj = UnitFactory(name="县自然资源和规划局"), UnitFactory(name="县财政局")
    shangpai, taohua = LocalityFactory(name="上派镇"), LocalityFactory(name="桃花镇")
    ruifeng = EnterpriseFactory(name="安徽瑞丰新材料科技有限公司")
    a = ProjectFactory(
        code="FXDX-001", name="宏远机械低效用地收储收回项目", locality=shangpai, enterprise=None
    )
    b = ProjectFactory(
        code="FXDX-002", name="瑞丰新材料低效用地收储收回项目", locality=taohua, enterprise=ruifeng
    )
    c = ProjectFactory(
        code="FXDX-005",
        name="众鑫电子低效用地嫁接盘活+自主提升项目",
        locality=taohua,
        status="completed",
    )
    DisposalLineFactory(project=a, method="takeback", area_mu=Decimal("86.45"))
    DisposalLineFactory(project=b, method="takeback", area_mu=Decimal("52.3"))
    DisposalLineFactory(project=c, method="grafting", area_mu=Decimal("128.50"))
    DisposalLineFactory(project=c, method="self_upgrade", area_mu=Decimal("62.45"))
    staff_zrj, staff_czj = make_user("staff", zrj), make_user("staff", czj)
    # a: a done node (zrj) and one due soon (czj)
    done = NodeFactory(project=a, seq=1, unit=zrj, due_date=dt.date(2026, 11, 20))
    frozen.move_to(at("2026-11-19 16:00"))
    node_complete(node=done, actor=staff_zrj, note="已办结")
    frozen.move_to(NOW)
    # 60% reported: 83% of its time since the first node's date is used, within the 30
    # points the early warning allows, so it shows due soon, not lagging
    NodeFactory(project=a, seq=2, unit=czj, due_date=dt.date(2026, 12, 2), progress=60)
    # b: a yellow node awaiting approval (zrj), a red one (czj), one on track (zrj), a yellow
    # one (zrj)
    waiting = NodeFactory(project=b, seq=1, unit=zrj, due_date=dt.date(2026, 11, 26))
    NodeFactory(project=b, seq=2, unit=czj, due_date=dt.date(2026, 11, 10))
    NodeFactory(project=b, seq=3, unit=zrj, due_date=dt.date(2026, 12, 30), progress=20)
    NodeFactory(project=b, seq=4, unit=zrj, due_date=dt.date(2026, 11, 24))
    sweep_run(as_of=at("2026-11-11 00:00"))
    sweep_run(as_of=at("2026-11-27 00:00"))
    recommitment_submit(
        node=waiting, actor=staff_zrj, reason="补偿协商中", new_due_date=dt.date(2026, 12, 20)
    )
    # c: one yellow node of czj, its card revoked: no card in force, past due (due soon)
    revoked = NodeFactory(project=c, seq=1, unit=czj, due_date=dt.date(2026, 11, 25))
    sweep_run(as_of=at("2026-11-26 00:00"))
    card_revoke(card=revoked.cards.get(), actor=make_user("supervisor"), reason="节点时间录入错误")
    return {
        "zrj": zrj,
        "czj": czj,
        "shangpai": shangpai,
        "taohua": taohua,
        "staff_zrj": staff_zrj,
        "staff_czj": staff_czj,
        "office": make_user("supervisor", username="office"),
        "projects": (a, b, c),
    }


def codes(response) -> list[str]:
    return [p.code for p in response.context["projects"]]


# ---- the list ----------------------------------------------------------------------------


def test_the_office_sees_every_project_with_its_figures(client, world):
    # given
    client.force_login(world["office"])
    # when
    response = client.get(reverse("projects"))
    # then
    assert response.status_code == 200
    assert codes(response) == ["FXDX-001", "FXDX-002", "FXDX-005"]
    rows = {
        p.code: (
            p.locality.name,
            p.area_mu,
            p.done_count,
            p.node_count,
            p.red_count,
            p.yellow_count,
        )
        for p in response.context["projects"]
    }
    assert rows == {
        "FXDX-001": ("上派镇", Decimal("86.45"), 1, 2, 0, 0),
        "FXDX-002": ("桃花镇", Decimal("52.30"), 0, 4, 1, 3),
        "FXDX-005": ("桃花镇", Decimal("190.95"), 0, 1, 0, 0),
    }
    body = response.content.decode()
    assert f'href="{reverse("project", args=["FXDX-002"])}"' in body
    assert '<td class="num" data-label="面积(亩)">52.30</td>' in body
    assert '<td class="num" data-label="进度">0/4</td>' in body
    assert '<span class="tag">嫁接盘活</span><span class="tag">自主提升</span>' in body
    assert "安徽瑞丰新材料科技有限公司" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"method": "takeback"}, ["FXDX-001", "FXDX-002"]),
        ({"method": "grafting"}, ["FXDX-005"]),
        ({"status": "completed"}, ["FXDX-005"]),
        ({"status": "active"}, ["FXDX-001", "FXDX-002"]),
        ({"card": "red"}, ["FXDX-002"]),
        ({"card": "yellow"}, ["FXDX-002"]),
        ({"light": "done"}, ["FXDX-001"]),
        ({"light": "due_soon"}, ["FXDX-001", "FXDX-005"]),  # past due, its card revoked
        ({"light": "red"}, ["FXDX-002"]),
        ({"light": "awaiting_approval"}, ["FXDX-002"]),
        ({"light": "on_track"}, ["FXDX-002"]),
        ({"light": "yellow"}, ["FXDX-002"]),
        ({"q": "FXDX-00"}, ["FXDX-001", "FXDX-002", "FXDX-005"]),
        ({"q": "fxdx-005"}, ["FXDX-005"]),
        ({"q": "宏远"}, ["FXDX-001"]),
        ({"q": "瑞丰新材料科技"}, ["FXDX-002"]),
        ({"q": " 嫁接盘活 "}, ["FXDX-005"]),
        ({"q": "没有这个"}, []),
        ({"method": "takeback", "card": "red"}, ["FXDX-002"]),
    ],
)
def test_each_filter_narrows_exactly(client, world, query, expected):
    client.force_login(world["office"])
    response = client.get(reverse("projects"), query)
    assert response.status_code == 200
    assert codes(response) == expected


def test_the_locality_and_unit_filters_narrow_exactly(client, world):
    client.force_login(world["office"])
    url = reverse("projects")
    assert codes(client.get(url, {"locality": world["shangpai"].pk})) == ["FXDX-001"]
    assert codes(client.get(url, {"locality": world["taohua"].pk})) == ["FXDX-002", "FXDX-005"]
    assert codes(client.get(url, {"unit": world["zrj"].pk})) == ["FXDX-001", "FXDX-002"]
    assert codes(client.get(url, {"unit": world["czj"].pk})) == [
        "FXDX-001",
        "FXDX-002",
        "FXDX-005",
    ]
    both = client.get(url, {"unit": world["zrj"].pk, "locality": world["taohua"].pk})
    assert codes(both) == ["FXDX-002"]


def test_a_yellow_light_is_the_light_not_the_card(client, world):
    """The light filter reads the node's light (red outranks yellow, a pending request too);
    the card filter reads the cards in force."""
    client.force_login(world["office"])
    b = world["projects"][1]
    assert [
        light_of(n) for n in nodes_with_light(Node.objects.filter(project=b), today=NOW.date())
    ] == [
        Light.AWAITING_APPROVAL,
        Light.RED,
        Light.ON_TRACK,
        Light.YELLOW,
    ]


def test_an_unknown_filter_value_is_shown_as_an_error_and_not_applied(client, world):
    client.force_login(world["office"])
    response = client.get(reverse("projects"), {"method": "bogus", "q": "宏远"})
    assert response.status_code == 200
    assert codes(response) == ["FXDX-001"]
    assert 'class="errorlist' in response.content.decode()


def test_the_filters_stay_in_the_page_links(client, world):
    # given: 32 more projects of one method
    town = world["taohua"]
    for i in range(32):
        DisposalLineFactory(project=ProjectFactory(code=f"QX-{i:03d}", locality=town))
    client.force_login(world["office"])
    # when
    first = client.get(reverse("projects"), {"method": "takeback"})
    second = client.get(reverse("projects"), {"method": "takeback", "page": 2})
    # then
    assert first.context["projects"].paginator.count == 34
    assert len(codes(first)) == 30 and len(codes(second)) == 4
    assert 'href="?method=takeback&amp;page=2"' in first.content.decode()


def test_staff_see_only_projects_with_their_units_nodes_and_count_only_those(client, world):
    # given
    client.force_login(world["staff_zrj"])
    # when
    response = client.get(reverse("projects"))
    # then
    assert codes(response) == ["FXDX-001", "FXDX-002"]
    b = response.context["projects"][1]
    assert (b.done_count, b.node_count, b.red_count, b.yellow_count) == (0, 3, 0, 2)
    # filters on nodes look only at their own: the red card is czj's
    assert codes(client.get(reverse("projects"), {"card": "red"})) == []
    assert codes(client.get(reverse("projects"), {"unit": world["czj"].pk})) == []
    assert codes(client.get(reverse("projects"), {"light": "red"})) == []


def test_a_leader_sees_the_projects_they_cover(client, world):
    leader = make_user("leader", UnitFactory(name="县住建局"))
    Coverage.objects.create(leader=leader, target="locality", locality=world["shangpai"])
    client.force_login(leader)
    assert codes(client.get(reverse("projects"))) == ["FXDX-001"]


def test_the_list_needs_a_sign_in(client, world):
    response = client.get(reverse("projects"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_list_answers_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    # given
    client.force_login(world["staff_zrj"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("projects"), {"method": "takeback", "light": "on_track"})
    for _i in range(12):
        project = ProjectFactory(locality=world["taohua"], enterprise=EnterpriseFactory())
        DisposalLineFactory(project=project)
        DisposalLineFactory(project=project, method="grafting")
        for seq in (1, 2):
            NodeFactory(project=project, seq=seq, unit=world["zrj"], due_date=dt.date(2026, 12, 30))
    # when / then
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("projects"), {"method": "takeback", "light": "on_track"})
    assert len(codes(response)) == 13


def test_light_worked_out_by_the_database_matches_the_rule(world):
    """nodes_with_light and rules.node_light (through light_of) decide the same light."""
    nodes = list(nodes_with_light(Node.objects.all(), today=NOW.date()))
    assert len(nodes) == 7
    assert [n.light for n in nodes] == [light_of(n).value for n in nodes]
    assert {n.light for n in nodes} == {
        "done",
        "due_soon",
        "awaiting_approval",
        "red",
        "on_track",
        "yellow",
    }


# ---- the project page --------------------------------------------------------------------


def test_the_project_page_shows_lines_enterprise_leaders_and_nodes(client, world):
    # given
    b = world["projects"][1]
    named = make_user("leader", world["taohua"], username="dong")
    named.full_name = "董立军"
    named.save()
    county = make_user("leader", world["zrj"], username="wang")
    county.full_name = "王立新"
    county.save()
    b.leader = named
    b.save()
    Coverage.objects.create(leader=county, target="locality", locality=world["taohua"])
    Coverage.objects.create(leader=named, target="enterprise", enterprise=b.enterprise)
    client.force_login(world["office"])
    # when
    response = client.get(reverse("project", args=["FXDX-002"]))
    # then
    assert response.status_code == 200
    assert [n.seq for n in response.context["nodes"]] == [1, 2, 3, 4]
    assert [(c.user.display_name, c.roles) for c in response.context["leaders"]] == [
        ("董立军", ("项目包保领导", "包保企业")),
        ("王立新", ("包保桃花镇",)),
    ]
    body = response.content.decode()
    assert "瑞丰新材料低效用地收储收回项目" in body
    assert "安徽瑞丰新材料科技有限公司" in body and "桃花镇" in body
    assert '<span class="tag">收储收回</span> <span class="num">52.30 亩</span>' in body
    for node in Node.objects.filter(project=b):
        assert f'href="{reverse("node", args=[node.pk])}"' in body
    assert 'class="light light-awaiting_approval"' in body
    assert 'class="light light-red"' in body
    assert "计划 11月26日（周四）" in body and "已超期 4 天" in body
    assert "计划 12月30日（周三）" in body and "还剩 22 个工作日" in body
    assert "显示全部节点" not in body


def test_the_project_page_shows_its_history_who_when_old_and_new(client, frozen, world):
    # given
    a = world["projects"][0]
    editor = make_user("supervisor", username="editor")
    editor.full_name = "孙丽"
    editor.save()
    frozen.move_to(at("2026-11-30 11:05"))
    a.name = "宏远机械低效用地收储收回项目（一期）"
    audited_save(a, actor=editor, reason="更正项目名称")
    frozen.move_to(at("2026-11-30 11:06"))
    line = a.disposal_lines.get()
    line.area_mu = Decimal("80.00")
    audited_save(line, actor=editor)
    client.force_login(world["office"])
    # when
    response = client.get(reverse("project", args=["FXDX-001"]))
    # then
    history = response.context["history"]
    assert [(e.kind, e.subject, e.user and e.user.display_name) for e in history[:2]] == [
        ("~", "处置方式：收储收回", "孙丽"),
        ("~", "项目", "孙丽"),
    ]
    assert [(c.field, c.old, c.new) for c in history[0].changes] == [
        ("面积(亩)", "86.45亩", "80.00亩")
    ]
    assert [(c.field, c.old, c.new) for c in history[1].changes] == [
        ("项目名称", "宏远机械低效用地收储收回项目", "宏远机械低效用地收储收回项目（一期）")
    ]
    assert history[1].reason == "更正项目名称"
    body = response.content.decode()
    assert "11月30日（周一）11:05 · 孙丽" in body
    assert (
        "<del>宏远机械低效用地收储收回项目</del> → <ins>宏远机械低效用地收储收回项目（一期）</ins>"
        in body
    )


def test_staff_of_another_unit_get_404_on_the_project_page(client, world):
    outsider = make_user("staff", UnitFactory(name="县住建局"))
    client.force_login(outsider)
    assert client.get(reverse("project", args=["FXDX-001"])).status_code == 404
    assert client.get(reverse("project", args=["FXDX-001"]), {"all": "1"}).status_code == 404


def test_an_unknown_project_is_404(client, world):
    client.force_login(world["office"])
    assert client.get(reverse("project", args=["FXDX-999"])).status_code == 404


def test_staff_see_only_their_units_nodes_and_are_told_so(client, world):
    # given
    client.force_login(world["staff_zrj"])
    # when
    response = client.get(reverse("project", args=["FXDX-002"]))
    # then
    assert response.status_code == 200
    assert [n.seq for n in response.context["nodes"]] == [1, 3, 4]
    body = response.content.decode()
    assert "只显示本单位负责的节点。" in body
    red = Node.objects.get(project__code="FXDX-002", seq=2)
    assert reverse("node", args=[red.pk]) not in body
    # ?all=1 shows nothing more than their scope
    shown = client.get(reverse("project", args=["FXDX-002"]), {"all": "1"}).context["nodes"]
    assert [n.seq for n in shown] == [1, 3, 4]


def test_staff_who_also_lead_another_unit_see_their_own_first_and_may_see_all(client, world):
    # given: staff of zrj who is also leader in charge of czj
    both = world["staff_zrj"]
    RoleAssignment.objects.create(user=both, role="leader", unit=world["czj"])
    client.force_login(both)
    url = reverse("project", args=["FXDX-002"])
    # when
    default = client.get(url)
    everything = client.get(url, {"all": "1"})
    # then
    assert [n.seq for n in default.context["nodes"]] == [1, 3, 4]
    assert "显示全部节点（4）" in default.content.decode()
    assert [n.seq for n in everything.context["nodes"]] == [1, 2, 3, 4]
    assert "只看本单位节点" in everything.content.decode()


def test_a_project_code_with_a_slash_has_its_page_and_its_row(client, world):
    """County numbers such as FX/2026-07 are ordinary: the list links to the project's page
    and the page opens, instead of the list failing for everyone."""
    # given
    project = ProjectFactory(code="FX/2026-07", name="某厂收储", locality=world["shangpai"])
    NodeFactory(project=project, seq=1, unit=world["zrj"])
    client.force_login(world["office"])
    # when
    listing = client.get(reverse("projects"), {"q": "FX/2026"})
    page = client.get(reverse("project", args=["FX/2026-07"]))
    # then
    assert listing.status_code == 200 and page.status_code == 200
    assert 'href="/projects/FX/2026-07/"' in listing.content.decode()
    assert "某厂收储" in page.content.decode()


def test_the_project_page_needs_a_sign_in(client, world):
    response = client.get(reverse("project", args=["FXDX-001"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_nothing_on_these_pages_writes(client, world):
    before = (
        list(Project.objects.values_list("id", "name", "status")),
        Node.objects.count(),
        DisposalLine.objects.count(),
    )
    client.force_login(world["office"])
    client.get(reverse("projects"), {"light": "red"})
    client.get(reverse("project", args=["FXDX-002"]), {"all": "1"})
    assert (
        list(Project.objects.values_list("id", "name", "status")),
        Node.objects.count(),
        DisposalLine.objects.count(),
    ) == before
