"""The demo data set: loads once, gives the published disposal table, shows every node state.

The land stream (园区转型升级) holds the 39 published cases (FXDX-…); two other work streams
(重点项目建设 FXZD-…, 招商引资 FXZS-…) add three projects each, with 39 nodes and 6
enterprises but no disposal lines, so the land figures and the disposal table are unchanged.
"""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from core import clock
from demo.data import DEMO_PASSWORD, demo_usernames
from organization.models import Coverage, RoleAssignment, Unit, User
from projects.models import Enterprise, Node, NodeTemplate, Project, WorkStream
from projects.selectors import disposal_summary
from projects.validators import is_valid_uscc

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows in every table of the four apps, history tables included."""
    return {
        model._meta.label: model.objects.count()
        for app in ("organization", "projects", "supervision", "scoring")
        for model in apps.get_app_config(app).get_models()
    }


def roles_of(username: str) -> set[tuple[str, str | None]]:
    return {
        (role, unit)
        for role, unit in RoleAssignment.objects.filter(user__username=username).values_list(
            "role", "unit__name"
        )
    }


def test_second_load_changes_nothing_and_says_so():
    # given
    first = load_demo()
    counts = row_counts()
    node_facts = ("pk", "due_date", "completed_at", "progress", "updated_at")
    nodes = list(Node.objects.values_list(*node_facts))
    # when
    second = load_demo()
    # then
    assert row_counts() == counts
    assert list(Node.objects.values_list(*node_facts)) == nodes
    assert "演示数据已载入" in first
    assert second.startswith("演示数据已加载，本次未做任何修改。")
    assert counts["projects.Project"] == 39 + 6
    assert counts["projects.DisposalLine"] == 41
    assert counts["projects.Enterprise"] == 39 + 6
    assert counts["projects.WorkStream"] == 3


def test_disposal_table_is_the_published_one():
    # given
    load_demo()
    # when
    rows, totals = disposal_summary()
    # then
    table = {row["method"]: (row["projects"], row["area"]) for row in rows}
    assert table == {
        "takeback": (34, Decimal("1609.90")),
        "grafting": (3, Decimal("340.00")),
        "self_upgrade": (4, Decimal("389.39")),
    }
    assert totals == {"projects": 39, "area": Decimal("2339.29")}


def test_two_grafting_projects_carry_a_second_method():
    # given
    load_demo()
    # when
    combined = {
        project.code: sorted(line.method for line in project.disposal_lines.all())
        for project in Project.objects.prefetch_related("disposal_lines")
        if project.disposal_lines.count() > 1
    }
    # then
    assert sorted(combined.values()) == [
        ["grafting", "self_upgrade"],
        ["grafting", "takeback"],
    ]


def test_every_area_is_positive_with_two_decimals():
    # given
    load_demo()
    # when
    areas = [
        line.area_mu for project in Project.objects.all() for line in project.disposal_lines.all()
    ]
    # then
    assert len(areas) == 41
    assert all(area > 0 and area == area.quantize(Decimal("0.01")) for area in areas)


def test_every_enterprise_has_a_valid_credit_code_in_feixi():
    # given
    load_demo()
    # when
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    # then
    assert len(codes) == 39 + 6
    assert len(set(codes)) == 39 + 6
    assert all(is_valid_uscc(code) for code in codes)
    assert all(code[2:8] == "340123" for code in codes)


def test_demo_accounts_hold_their_roles():
    # given
    load_demo()
    zrj = "县自然资源和规划局"
    # then
    existing = User.objects.filter(username__in=demo_usernames()).values_list("username", flat=True)
    assert set(existing) == set(demo_usernames())
    assert roles_of("staff_zrj") == {("staff", zrj)}
    assert roles_of("staff_shangpai") == {("staff", "上派镇")}
    assert roles_of("principal") == {("principal", None)}
    assert roles_of("supervisor") == {("supervisor", None)}
    assert roles_of("leader_wang") == {
        ("leader", name)
        for name in (zrj, "县财政局", "县投资促进中心", "上派镇", "桃花镇", "桃花工业园", "严店乡")
    }
    admin = User.objects.get(username="admin")
    assert (admin.is_superuser, admin.is_staff, roles_of("admin")) == (True, True, set())
    assert authenticate(username="staff_zrj", password=DEMO_PASSWORD) is not None
    assert authenticate(username="leader_wang", password=DEMO_PASSWORD) is not None


def test_every_unit_has_staff_and_every_locality_a_leader():
    # given
    load_demo()
    # then
    for unit in Unit.objects.all():
        assert RoleAssignment.objects.filter(unit=unit, role="staff").count() == 1, unit.name
        if unit.is_locality:
            assert RoleAssignment.objects.filter(unit=unit, role="leader").count() == 2, unit.name


def test_coverage_chain_reaches_every_project():
    # given
    load_demo()
    # then: county leaders cover localities, township leaders cover enterprises and lead projects
    assert Coverage.objects.filter(target="locality").count() == 13
    assert {c.leader.username for c in Coverage.objects.filter(target="locality")} == {
        "leader_wang",
        "leader_li",
        "leader_zhang",
    }
    for project in Project.objects.select_related("locality", "leader", "enterprise"):
        assert roles_of(project.leader.username) == {("leader", project.locality.name)}
        covered = Coverage.objects.filter(leader=project.leader, enterprise=project.enterprise)
        assert covered.exists()
        assert Coverage.objects.filter(target="locality", locality=project.locality).count() == 1
    assert Coverage.objects.filter(target="project").count() == 3


def test_nodes_are_completed_running_due_soon_and_overdue_relative_to_today():
    # given
    load_demo()
    today = clock.today()
    # when: the land stream's nodes (the published cases)
    nodes = Node.objects.filter(project__work_stream__is_land=True)
    completed = nodes.filter(completed_at__isnull=False)
    open_nodes = nodes.filter(completed_at__isnull=True)
    overdue = open_nodes.filter(due_date__lt=today)
    due_soon = open_nodes.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=3))
    running = open_nodes.filter(progress__gte=10, progress__lte=90)
    # then
    assert nodes.count() == 307
    assert completed.count() == 158
    assert overdue.count() == 12
    assert overdue.filter(due_date__lt=today - dt.timedelta(days=7)).count() == 5
    assert due_soon.count() == 8
    assert running.count() == 36  # the current node of each of the 36 unfinished projects
    assert all(node.progress == 100 for node in completed)
    assert all(node.completed_at <= clock.now() for node in completed)
    late = [n for n in completed if n.completed_at >= clock.end_of_day_instant(n.due_date)]
    assert len(late) == 2
    per_project = [p.nodes.count() for p in Project.objects.all()]
    assert min(per_project) >= 5 and max(per_project) <= 10
    assert Node.objects.count() == 307 + 39


def test_two_more_streams_run_by_the_same_method_without_disposal_lines():
    # given
    load_demo()
    today = clock.today()
    # when
    by_stream = {
        stream.code: sorted(stream.projects.values_list("code", flat=True))
        for stream in WorkStream.objects.all()
    }
    nodes = Node.objects.filter(project__work_stream__is_land=False)
    open_nodes = nodes.filter(completed_at__isnull=True)
    overdue = open_nodes.filter(due_date__lt=today)
    due_soon = open_nodes.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=3))
    # then
    assert list(WorkStream.objects.values_list("code", "name", "is_land")) == [
        ("land", "园区转型升级", True),
        ("key-projects", "重点项目建设", False),
        ("investment", "招商引资", False),
    ]
    assert len(by_stream["land"]) == 39
    assert by_stream["key-projects"] == ["FXZD-001", "FXZD-002", "FXZD-003"]
    assert by_stream["investment"] == ["FXZS-001", "FXZS-002", "FXZS-003"]
    assert not Project.objects.filter(work_stream__is_land=False, disposal_lines__isnull=False)
    assert nodes.count() == 39
    assert nodes.filter(completed_at__isnull=False).count() == 21
    assert overdue.count() == 2
    assert due_soon.count() == 1
    assert nodes.values("unit").distinct().count() >= 8


def test_templates_cover_the_three_methods():
    # given
    load_demo()
    # when
    templates = {t.name: t.steps.count() for t in NodeTemplate.objects.all()}
    # then
    assert templates == {"收储收回标准流程": 9, "嫁接盘活标准流程": 8, "自主提升标准流程": 7}


def test_demo_accounts_command_lists_the_accounts_or_says_there_are_none():
    # given
    empty = StringIO()
    call_command("demo_accounts", stdout=empty)
    load_demo()
    # when
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    # then
    assert empty.getvalue() == "尚无演示账号。运行 python manage.py load_demo 载入演示数据。\n"
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + len(demo_usernames())
    assert any(line.split()[:2] == ["staff_zrj", DEMO_PASSWORD] for line in lines)
    assert any("principal" in line and "主要领导" in line for line in lines)
