"""Projects and nodes are archived by the office, never deleted: an archived node keeps its
cards but gets no new card, no reminder, and leaves the staff's to-do and weekly lists."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse

from organization.tokens import api_token_create
from projects.models import Node, NodeEvent, Project
from supervision.models import Card, Notification
from supervision.selectors import todo_list, weekly_node_list
from supervision.services import node_archive, project_archive, sweep_run
from tests.factories import NodeFactory, ProjectFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unit():
    return UnitFactory(name="县自然资源局")


@pytest.fixture
def office():
    return make_user("supervisor", username="dcb")


@pytest.fixture
def staff(unit):
    return make_user("staff", unit, username="jbr")


def _state(node: Node) -> tuple:
    node.refresh_from_db()
    return (
        node.archived_at,
        node.archived_by_id,
        node.history.count(),
        NodeEvent.objects.filter(node=node).count(),
    )


def test_the_office_archives_a_node_with_its_reason(unit, office):
    # given
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 10), name="签订收储协议")
    # when
    node_archive(node=node, actor=office, reason="  项目调整，节点取消 ")
    # then
    node.refresh_from_db()
    assert node.archived_at == NOW
    assert node.archived_by == office
    event = NodeEvent.objects.get(node=node)
    assert (event.kind, event.actor, event.occurred_at, event.message, event.data) == (
        "archived",
        office,
        NOW,
        "节点归档：项目调整，节点取消",
        {"reason": "项目调整，节点取消"},
    )
    last = node.history.first()
    assert (last.archived_at, last.history_user, last.history_change_reason) == (
        NOW,
        office,
        "项目调整，节点取消",
    )


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_only_the_office_archives_a_node(unit, role):
    # given
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 10))
    someone = make_user(role, unit)
    before = _state(node)
    # when
    with pytest.raises(PermissionDenied) as refused:
        node_archive(node=node, actor=someone, reason="不再需要")
    # then
    assert str(refused.value) == "只有督查办可以归档节点。"
    assert _state(node) == before == (None, None, 1, 0)


def test_a_node_is_not_archived_without_a_reason(unit, office):
    # given
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 10))
    before = _state(node)
    # when
    with pytest.raises(ValidationError):
        node_archive(node=node, actor=office, reason="   ")
    # then
    assert _state(node) == before


def test_an_archived_overdue_node_gets_no_card_and_keeps_the_cards_it_has(unit, office):
    # given: one node with a yellow card already, one overdue without any
    carded = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 10))
    sweep_run(as_of=NOW - dt.timedelta(days=10))
    overdue = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    assert list(Card.objects.values_list("node_id", "kind")) == [(carded.pk, "yellow")]
    node_archive(node=carded, actor=office, reason="项目终止")
    node_archive(node=overdue, actor=office, reason="项目终止")
    # when
    sweep_run(as_of=NOW)
    # then
    assert list(Card.objects.values_list("node_id", "kind")) == [(carded.pk, "yellow")]


def test_an_archived_node_gets_no_reminder(unit, office, staff):
    # given: due in three days, when the rules remind
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    node_archive(node=node, actor=office, reason="项目终止")
    # when
    sweep_run(as_of=NOW)
    # then
    assert Notification.objects.filter(kind="reminder").count() == 0


def test_an_archived_node_leaves_the_to_do_and_weekly_lists(unit, office, staff):
    # given
    kept = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 24))
    gone = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 25))
    assert [e.node.pk for e in todo_list(user=staff)] == [kept.pk, gone.pk]
    # when
    node_archive(node=gone, actor=office, reason="项目终止")
    # then
    assert [e.node.pk for e in todo_list(user=staff)] == [kept.pk]
    assert list(weekly_node_list(user=staff).values_list("pk", flat=True)) == [kept.pk]


def test_archiving_a_project_archives_its_open_nodes(unit, office):
    # given
    project = ProjectFactory()
    done = NodeFactory(project=project, unit=unit, completed_at=NOW - dt.timedelta(days=3))
    open_ = NodeFactory(project=project, unit=unit, due_date=dt.date(2026, 12, 10))
    other = NodeFactory(unit=unit, due_date=dt.date(2026, 12, 10))
    # when
    project_archive(project=project, actor=office, reason="企业已注销")
    # then
    project.refresh_from_db()
    assert (project.archived_at, project.archived_by) == (NOW, office)
    assert project.history.first().history_change_reason == "企业已注销"
    assert dict(Node.objects.values_list("pk", "archived_at")) == {
        done.pk: None,
        open_.pk: NOW,
        other.pk: None,
    }
    assert list(NodeEvent.objects.values_list("node_id", "kind")) == [(open_.pk, "archived")]


def test_only_the_office_archives_a_project(unit):
    # given
    project = ProjectFactory()
    node = NodeFactory(project=project, unit=unit, due_date=dt.date(2026, 12, 10))
    leader = make_user("leader", unit)
    # when
    with pytest.raises(PermissionDenied):
        project_archive(project=project, actor=leader, reason="企业已注销")
    # then
    project.refresh_from_db()
    assert (project.archived_at, project.history.count()) == (None, 1)
    assert _state(node) == (None, None, 1, 0)


def test_the_admin_offers_no_delete_of_projects_or_nodes(office):
    # given
    request = RequestFactory().get("/admin/")
    request.user = office
    project = ProjectFactory()
    # then
    assert site._registry[Project].has_delete_permission(request, project) is False
    assert site._registry[Node].has_delete_permission(request) is False


def test_the_api_project_list_leaves_archived_projects_out_but_their_detail_opens(
    client, unit, office
):
    # given
    kept = ProjectFactory(code="FX-001")
    gone = ProjectFactory(code="FX-002")
    NodeFactory(project=gone, unit=unit, due_date=dt.date(2026, 12, 10))
    project_archive(project=gone, actor=office, reason="企业已注销")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=office)}"}
    # when
    listed = client.get("/api/v1/projects/", **headers)
    detail = client.get("/api/v1/projects/FX-002/", **headers)
    # then
    assert [p["code"] for p in listed.json()["results"]] == [kept.code]
    assert (detail.status_code, detail.json()["code"]) == (200, "FX-002")


def test_the_pages_list_no_archived_project_and_show_who_archived_when_and_why(
    client, unit, office
):
    # given
    office.full_name = "王督查"
    office.save()
    kept = ProjectFactory(code="FX-001", name="留用项目")
    gone = ProjectFactory(code="FX-002", name="归档项目")
    node = NodeFactory(project=gone, unit=unit, due_date=dt.date(2026, 12, 10))
    project_archive(project=gone, actor=office, reason="企业已注销")
    client.force_login(office)
    # when
    listed = client.get(reverse("projects")).content.decode()
    project_page = client.get(reverse("project", args=["FX-002"])).content.decode()
    node_page = client.get(reverse("node", args=[node.pk])).content.decode()
    # then
    assert kept.name in listed
    assert gone.name not in listed
    shown = "已归档</span> 11月23日（周一）10:00 王督查：企业已注销"
    assert shown in project_page
    assert shown in node_page


def test_the_office_archives_nodes_and_projects_from_the_admin_with_one_reason(
    client, unit, office
):
    """The admin's 归档 actions ask for a reason, then archive every selected row, never delete."""
    # given
    from organization.services import supervision_office_group

    office.is_staff = True
    office.save()
    office.groups.add(supervision_office_group())
    node = NodeFactory(unit=unit)
    project = ProjectFactory()
    other = NodeFactory(project=project, unit=unit)
    client.force_login(office)
    # when
    nodes = client.post(
        reverse("admin:projects_node_changelist"),
        {
            "action": "archive_nodes",
            "_selected_action": [node.pk],
            "apply": "1",
            "reason": "并入其他节点",
        },
    )
    projects = client.post(
        reverse("admin:projects_project_changelist"),
        {
            "action": "archive_projects",
            "_selected_action": [project.pk],
            "apply": "1",
            "reason": "项目撤销",
        },
    )
    # then
    assert (nodes.status_code, projects.status_code) == (302, 302)
    node.refresh_from_db()
    other.refresh_from_db()
    project.refresh_from_db()
    assert (node.archived_by, other.archived_by, project.archived_by) == (office, office, office)
    assert Node.objects.filter(pk__in=[node.pk, other.pk]).count() == 2
