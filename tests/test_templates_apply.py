"""Applying a node template to a project: from the service and from the admin action."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects.models import Node, NodeTemplate, NodeTemplateStep
from projects.services import node_template_apply
from tests.factories import (
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    t = NodeTemplate.objects.create(name="收储收回标准流程")
    NodeTemplateStep.objects.create(
        template=t, seq=1, name="摸底调查", unit_kind="township", offset_days=10
    )
    NodeTemplateStep.objects.create(
        template=t,
        seq=2,
        name="补偿款支付",
        unit_kind="department",
        default_unit=UnitFactory(name="县财政局"),
        offset_days=60,
    )
    return t


def test_nodes_follow_the_steps_after_the_existing_ones(template):
    # given
    project = ProjectFactory(locality=LocalityFactory(name="上派镇"))
    NodeFactory(project=project, seq=1)
    # when
    nodes = node_template_apply(
        project=project,
        template=template,
        start_date=dt.date(2027, 1, 4),
        actor=make_user("supervisor"),
    )
    # then
    assert [(n.seq, n.name, n.unit.name, n.due_date) for n in nodes] == [
        (2, "摸底调查", "上派镇", dt.date(2027, 1, 14)),
        (3, "补偿款支付", "县财政局", dt.date(2027, 3, 5)),
    ]
    assert nodes[0].history.get().history_user.role_assignments.get().role == "supervisor"


def test_a_department_step_without_a_unit_is_refused_and_nothing_is_made(template):
    NodeTemplateStep.objects.create(
        template=template, seq=3, name="出让", unit_kind="department", offset_days=90
    )
    project = ProjectFactory()
    with pytest.raises(ValidationError):
        node_template_apply(
            project=project,
            template=template,
            start_date=dt.date(2027, 1, 4),
            actor=make_user("supervisor"),
        )
    assert Node.objects.count() == 0


def test_unit_staff_may_not_apply_templates(template):
    unit = UnitFactory()
    with pytest.raises(PermissionDenied):
        node_template_apply(
            project=ProjectFactory(),
            template=template,
            start_date=dt.date(2027, 1, 4),
            actor=make_user("staff", unit),
        )
    assert Node.objects.count() == 0


def test_admin_action_applies_to_the_selected_projects(client, template):
    # given
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    first, second = ProjectFactory(), ProjectFactory()
    url = reverse("admin:projects_project_changelist")
    # when: the action first asks for the template and the start date
    form = client.post(url, {"action": "apply_template", "_selected_action": [first.pk, second.pk]})
    assert form.status_code == 200 and "开始日期" in form.content.decode()
    done = client.post(
        url,
        {
            "action": "apply_template",
            "_selected_action": [first.pk, second.pk],
            "apply": "1",
            "template": template.pk,
            "start_date": "2027-01-04",
        },
    )
    # then
    assert done.status_code == 302
    assert sorted(Node.objects.values_list("project__code", "seq", "due_date")) == [
        (first.code, 1, dt.date(2027, 1, 14)),
        (first.code, 2, dt.date(2027, 3, 5)),
        (second.code, 1, dt.date(2027, 1, 14)),
        (second.code, 2, dt.date(2027, 3, 5)),
    ]


def test_admin_action_moves_due_dates_with_a_reason(client):
    # given: the supervision office, onboarded as usual
    from django.core.management import call_command

    from projects.models import NodeEvent

    call_command(
        "add_user", "dcb", "--password", "pw-123456789", "--role", "supervisor", stdout=None
    )
    client.login(username="dcb", password="pw-123456789")
    node = NodeFactory(due_date=dt.date(2026, 12, 1))
    url = reverse("admin:projects_node_changelist")
    # when: without a reason, the form comes back and nothing changes
    again = client.post(
        url,
        {
            "action": "change_due_date",
            "_selected_action": [node.pk],
            "apply": "1",
            "due_date": "2026-12-20",
            "reason": "",
        },
    )
    assert again.status_code == 200
    node.refresh_from_db()
    assert node.due_date == dt.date(2026, 12, 1)
    done = client.post(
        url,
        {
            "action": "change_due_date",
            "_selected_action": [node.pk],
            "apply": "1",
            "due_date": "2026-12-20",
            "reason": "县政府常务会议调整计划",
        },
    )
    # then
    assert done.status_code == 302
    node.refresh_from_db()
    assert (node.due_date, node.next_escalation_at) == (dt.date(2026, 12, 20), None)
    event = NodeEvent.objects.get(node=node, kind="due_changed")
    assert event.actor.username == "dcb" and "县政府常务会议调整计划" in event.message
    assert node.history.first().history_change_reason == "县政府常务会议调整计划"
