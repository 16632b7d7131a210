"""The Django admin: every page opens, history is shown but not restored, ledgers are read-only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from core import clock
from organization.models import ApiToken, Coverage, RoleAssignment, Unit, User
from projects.models import (
    DisposalLine,
    Enterprise,
    Node,
    NodeEvent,
    NodeTemplate,
    NodeTemplateStep,
    ProgressAttachment,
    ProgressReport,
    Project,
    WorkStream,
)
from projects.validators import uscc_check_digit
from scoring.models import PointsEntry, RuleVersion
from tests.factories import LocalityFactory, NodeFactory, UnitFactory, UserFactory, make_user

pytestmark = pytest.mark.django_db

MY_APPS = ("organization", "projects", "scoring")
# Shown as inlines of their parent, not on their own.
INLINE_ONLY = {DisposalLine, NodeTemplateStep, ProgressAttachment}
REVERT_WORDS = ("还原", "Revert", "revert", 'name="_save"')


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client(client):
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def objects() -> dict[type, object]:
    """One row of every model the admin of these apps shows."""
    department = UnitFactory(name="县财政局")
    locality = LocalityFactory(name="上派镇")
    staff = make_user("staff", department, username="staff_czj")
    leader = make_user("leader", locality, username="leader_shangpai")
    code = "91340123MA2N0X1Y2"
    enterprise = Enterprise.objects.create(
        name="合肥派河家具制造有限公司",
        credit_code=code + uscc_check_digit(code),
        locality=locality,
    )
    project = Project.objects.create(
        code="FXDX-001",
        name="派河家具低效用地收储收回项目",
        locality=locality,
        enterprise=enterprise,
        leader=leader,
    )
    DisposalLine.objects.create(project=project, method="takeback", area_mu=Decimal("42.33"))
    node = NodeFactory(project=project, seq=1, name="补偿款支付", unit=department)
    stream = WorkStream.objects.create(code="invest", name="招商引资")
    template = NodeTemplate.objects.create(name="收储收回标准流程")
    NodeTemplateStep.objects.create(
        template=template,
        seq=1,
        name="补偿款支付",
        unit_kind="department",
        default_unit=department,
        offset_days=95,
    )
    report = ProgressReport.objects.create(node=node, percent=40, note="已拨付首期", author=staff)
    event = NodeEvent.objects.create(
        node=node, kind="progress", actor=staff, occurred_at=clock.now(), message="填报进度 40%"
    )
    ProgressAttachment.objects.create(
        report=report, name="拨付凭证.pdf", file=SimpleUploadedFile("pz.pdf", b"%PDF-1.4")
    )
    coverage = Coverage.objects.create(leader=leader, target="enterprise", enterprise=enterprise)
    token = ApiToken.objects.create(user=staff, digest="d" * 64, prefix="abcdefgh")
    rule = RuleVersion.objects.create(effective_from=dt.date(2025, 1, 1), reminder_days=[3, 1])
    entry = PointsEntry.objects.create(
        unit=department,
        kind="bonus",
        points=Decimal("2.00"),
        reason="提前完成加分",
        occurred_at=clock.now(),
    )
    return {
        User: staff,
        Unit: department,
        RoleAssignment: staff.role_assignments.get(),
        Coverage: coverage,
        ApiToken: token,
        Enterprise: enterprise,
        Project: project,
        Node: node,
        NodeEvent: event,
        NodeTemplate: template,
        ProgressReport: report,
        RuleVersion: rule,
        PointsEntry: entry,
        WorkStream: stream,
    }


def my_admin_models() -> list[type]:
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label in MY_APPS),
        key=lambda m: m._meta.label,
    )


def test_every_model_of_these_apps_has_an_admin_page_or_an_inline():
    # given
    from django.apps import apps

    models = {
        m
        for app in MY_APPS
        for m in apps.get_app_config(app).get_models()
        if not m.__name__.startswith("Historical")
    }
    # then
    assert models - set(my_admin_models()) == INLINE_ONLY


def test_superuser_opens_every_changelist_with_search_and_filters(superuser_client, objects):
    # given: every admin of the site, these apps' and the others'
    for model, model_admin in admin.site._registry.items():
        # when
        plain = superuser_client.get(url(model, "changelist"))
        searched = superuser_client.get(url(model, "changelist"), {"q": "上派"})
        # then
        assert plain.status_code == 200, model._meta.label
        assert searched.status_code == 200, model._meta.label
        if model._meta.app_label in MY_APPS:
            assert model_admin.search_fields, model._meta.label
            assert model_admin.list_filter, model._meta.label


@pytest.mark.parametrize("model", my_admin_models(), ids=lambda m: m._meta.label)
def test_superuser_opens_change_and_add_pages(superuser_client, objects, model):
    # given
    obj = objects[model]
    model_admin = admin.site._registry[model]
    # when
    change = superuser_client.get(url(model, "change", obj.pk))
    add = superuser_client.get(url(model, "add"))
    # then
    assert change.status_code == 200
    can_add = model_admin.has_add_permission(change.wsgi_request)
    assert add.status_code == (200 if can_add else 403)


def test_only_what_people_keep_by_hand_can_be_added(rf):
    # given
    request = rf.get("/")
    request.user = UserFactory(username="root", is_superuser=True, is_staff=True)
    # when
    addable = {
        m._meta.label
        for m, model_admin in admin.site._registry.items()
        if m._meta.app_label in MY_APPS and model_admin.has_add_permission(request)
    }
    # then: not the facts that services write (nodes, reports, the ledger, API tokens)
    assert addable == {
        "organization.User",
        "organization.Unit",
        "organization.RoleAssignment",
        "organization.Coverage",
        "projects.Enterprise",
        "projects.Project",
        "projects.NodeTemplate",
        "projects.WorkStream",
        "scoring.RuleVersion",
    }


HISTORY_MODELS = [
    m for m in my_admin_models() if isinstance(admin.site._registry[m], SimpleHistoryAdmin)
]


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m._meta.label)
def test_history_is_shown_but_cannot_be_restored(superuser_client, objects, model):
    # given
    obj = objects[model]
    version = obj.history.earliest("history_date")
    before = model.history.count()
    # when
    history = superuser_client.get(url(model, "history", obj.pk))
    old = superuser_client.get(url(model, "simple_history", obj.pk, version.pk))
    posted = superuser_client.post(url(model, "simple_history", obj.pk, version.pk), {})
    # then
    assert history.status_code == 200
    assert old.status_code == 200
    for word in REVERT_WORDS:
        assert word not in history.content.decode(), word
        assert word not in old.content.decode(), word
    assert posted.status_code == 405
    assert model.history.count() == before


def test_history_models_are_the_tracked_ones():
    # then
    assert {m._meta.label for m in HISTORY_MODELS} == {
        m._meta.label for m in my_admin_models() if hasattr(m, "history")
    }


def test_points_entries_cannot_be_added_changed_or_deleted(superuser_client, objects):
    # given
    entry = objects[PointsEntry]
    model_admin = admin.site._registry[PointsEntry]
    # when
    add = superuser_client.get(url(PointsEntry, "add"))
    posted = superuser_client.post(
        url(PointsEntry, "add"),
        {
            "unit": entry.unit_id,
            "kind": "bonus",
            "points": "5.00",
            "reason": "x",
            "occurred_at_0": "2026-11-01",
            "occurred_at_1": "00:00:00",
        },
    )
    change = superuser_client.post(url(PointsEntry, "change", entry.pk), {"points": "9.00"})
    delete = superuser_client.post(url(PointsEntry, "delete", entry.pk), {"post": "yes"})
    view = superuser_client.get(url(PointsEntry, "change", entry.pk))
    # then
    assert model_admin.has_add_permission(view.wsgi_request) is False
    assert (add.status_code, posted.status_code, change.status_code, delete.status_code) == (
        403,
        403,
        403,
        403,
    )
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert list(PointsEntry.objects.values_list("pk", "points")) == [(entry.pk, Decimal("2.00"))]
    assert "delete_selected" not in model_admin.get_actions(view.wsgi_request)


def rule_post(effective_from: dt.date, yellow: str = "1.50") -> dict:
    return {
        "effective_from": effective_from.isoformat(),
        "yellow_points": yellow,
        "red_points": "2.00",
        "base_score": "100.00",
        "grace_workdays": "3",
        "reminder_days": "[3, 1]",
        "note": "试行",
    }


@pytest.mark.parametrize("days_ago", [0, 30])
def test_a_rule_in_force_is_read_only(superuser_client, days_ago):
    # given: a rule that took effect today, or a month ago
    today = clock.today()
    rule = RuleVersion.objects.create(
        effective_from=today - dt.timedelta(days=days_ago), reminder_days=[3, 1]
    )
    model_admin = admin.site._registry[RuleVersion]
    # when
    page = superuser_client.get(url(RuleVersion, "change", rule.pk))
    posted = superuser_client.post(
        url(RuleVersion, "change", rule.pk), rule_post(rule.effective_from)
    )
    deleted = superuser_client.post(url(RuleVersion, "delete", rule.pk), {"post": "yes"})
    # then
    assert page.status_code == 200
    assert 'name="yellow_points"' not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert (posted.status_code, deleted.status_code) == (403, 403)
    rule.refresh_from_db()
    assert rule.yellow_points == Decimal("1.00")
    assert model_admin.has_change_permission(page.wsgi_request, rule) is False
    assert "delete_selected" not in model_admin.get_actions(page.wsgi_request)


def test_a_scheduled_rule_can_still_be_edited(superuser_client):
    # given
    tomorrow = clock.today() + dt.timedelta(days=1)
    rule = RuleVersion.objects.create(effective_from=tomorrow, reminder_days=[3, 1])
    # when
    posted = superuser_client.post(url(RuleVersion, "change", rule.pk), rule_post(tomorrow, "1.50"))
    # then
    assert posted.status_code == 302
    rule.refresh_from_db()
    assert (rule.yellow_points, rule.note) == (Decimal("1.50"), "试行")
    assert rule.history.count() == 2


def test_a_new_rule_must_start_after_today(superuser_client):
    # given
    before = RuleVersion.objects.count()
    today = clock.today()
    # when
    refused = superuser_client.post(url(RuleVersion, "add"), rule_post(today))
    accepted = superuser_client.post(
        url(RuleVersion, "add"), rule_post(today + dt.timedelta(days=30))
    )
    # then
    assert refused.status_code == 200
    assert "生效日期须晚于今天" in refused.content.decode()
    assert accepted.status_code == 302
    assert RuleVersion.objects.count() == before + 1
    assert RuleVersion.objects.filter(effective_from=today + dt.timedelta(days=30)).exists()


def test_api_tokens_are_revoked_not_added(superuser_client, objects):
    # given
    token = objects[ApiToken]
    # when
    add = superuser_client.get(url(ApiToken, "add"))
    first = superuser_client.post(
        url(ApiToken, "changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    revoked_at = token.revoked_at
    superuser_client.post(
        url(ApiToken, "changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    # then
    assert add.status_code == 403
    assert first.status_code == 302
    assert revoked_at is not None
    assert token.revoked_at == revoked_at
    assert (token.digest, token.prefix) == ("d" * 64, "abcdefgh")


def test_nodes_and_progress_reports_are_read_only(superuser_client, objects):
    # given
    node = objects[Node]
    # when
    pages = [
        superuser_client.get(url(Node, "add")),
        superuser_client.post(url(Node, "change", node.pk), {"name": "改名"}),
        superuser_client.get(url(ProgressReport, "add")),
    ]
    # then
    assert [p.status_code for p in pages] == [403, 403, 403]
    node.refresh_from_db()
    assert node.name == "补偿款支付"


def test_superuser_adds_a_user_with_full_name_in_the_admin(superuser_client):
    # when
    response = superuser_client.post(
        url(User, "add"),
        {
            "username": "zhao",
            "full_name": "赵敏",
            "phone": "0551-68888888",
            "email": "",
            "usable_password": "true",
            "password1": "s3cret-pass",
            "password2": "s3cret-pass",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )
    # then
    assert response.status_code == 302
    user = User.objects.get(username="zhao")
    assert (user.full_name, user.phone) == ("赵敏", "0551-68888888")
    assert user.check_password("s3cret-pass")
