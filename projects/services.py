"""Writes about projects and nodes: progress, completion, due dates and templates."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.i18n import in_record_language
from organization.choices import UnitKind
from organization.models import User
from organization.selectors import user_scope

from .models import Node, NodeTemplate, ProgressAttachment, ProgressReport, Project
from .validators import plan_date_error

NOTE_MAX = 2000


def _locked_node_of_staff(node: Node, actor: User) -> Node:
    """The node under a row lock, after checking (again, inside the transaction) that the actor works for its unit."""
    node = (
        Node.objects.select_for_update(of=("self",))
        .select_related("project", "unit")
        .get(pk=node.pk)
    )
    if node.unit_id not in user_scope(user=actor).staff_unit_ids:
        raise PermissionDenied(_("只有责任单位的经办人可以填报该节点。"))
    return node


def _clean_note(note: str, *, required: bool = False) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": [_("请填写说明。")]})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("说明不能超过2000字。")]})
    return note


@in_record_language
@transaction.atomic
def node_progress_report(
    *, node: Node, actor: User, percent: int, note: str = "", files=()
) -> ProgressReport:
    """Unit staff report a node's progress (percent done, a note, evidence files)."""
    from supervision.choices import NodeEventKind
    from supervision.services import node_event_record

    node = _locked_node_of_staff(node, actor)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValidationError({"percent": [_("进度须为0到100之间的整数。")]})
    note = _clean_note(note)
    if node.completed_at is not None:
        raise Conflict(_("节点已办结，不能再填报进度。"), "node_completed")
    report = ProgressReport(node=node, percent=percent, note=note, author=actor)
    report.full_clean()
    report.save()
    for f in files:
        ProgressAttachment.objects.create(report=report, file=f, name=f.name[:200])
    if node.progress != percent:
        node.progress = percent
        audited_save(
            node, actor=actor, reason=_("填报进度"), update_fields=["progress", "updated_at"]
        )
    node_event_record(
        node=node,
        kind=NodeEventKind.PROGRESS,
        actor=actor,
        at=clock.now(),
        message=_("填报进度 %(percent)s%%") % {"percent": percent},
        report=report.pk,
    )
    return report


@in_record_language
@transaction.atomic
def node_complete(*, node: Node, actor: User, note: str = "", files=()) -> Node:
    """Unit staff mark a node done now (办结); an open supervision item becomes ready to close."""
    from supervision.choices import NodeEventKind
    from supervision.services import node_completion_follow_up, node_event_record

    node = _locked_node_of_staff(node, actor)
    note = _clean_note(note)
    if node.completed_at is not None:
        raise Conflict(_("节点已办结。"), "node_completed")
    now = clock.now()
    report = ProgressReport(node=node, percent=100, note=note, author=actor, is_completion=True)
    report.full_clean()
    report.save()
    for f in files:
        ProgressAttachment.objects.create(report=report, file=f, name=f.name[:200])
    node.completed_at = now
    node.progress = 100
    audited_save(
        node,
        actor=actor,
        reason=_("办结"),
        update_fields=["completed_at", "progress", "updated_at"],
    )
    node_event_record(
        node=node,
        kind=NodeEventKind.COMPLETED,
        actor=actor,
        at=now,
        message=_("节点办结"),
        report=report.pk,
    )
    node_completion_follow_up(node=node, actor=actor, at=now)
    return node


@in_record_language
@transaction.atomic
def node_change_due_date(*, node: Node, actor: User, due_date: dt.date, reason: str) -> Node:
    """The supervision office moves a node's planned date (with a reason, kept in history)."""
    from supervision.choices import NodeEventKind
    from supervision.services import node_event_record, nodes_refresh_escalation

    if not user_scope(user=actor).is_supervisor:
        raise PermissionDenied(_("只有督查办可以调整节点时间。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写调整理由。")]})
    if out_of_range := plan_date_error(due_date):
        raise ValidationError({"due_date": [out_of_range]})
    node = Node.objects.select_for_update(of=("self",)).get(pk=node.pk)
    if node.due_date == due_date:
        return node
    old = node.due_date
    node.due_date = due_date
    node.full_clean()
    audited_save(node, actor=actor, reason=reason)
    node_event_record(
        node=node,
        kind=NodeEventKind.DUE_CHANGED,
        actor=actor,
        at=clock.now(),
        message=_("节点时间由 %(old)s 调整为 %(new)s：%(reason)s")
        % {"old": f"{old:%Y-%m-%d}", "new": f"{due_date:%Y-%m-%d}", "reason": reason},
        old=old.isoformat(),
        new=due_date.isoformat(),
    )
    nodes_refresh_escalation(node_ids=[node.pk])
    return node


@in_record_language
@transaction.atomic
def node_template_apply(
    *, project: Project, template: NodeTemplate, start_date: dt.date, actor: User
) -> list[Node]:
    """Create a project's nodes from a template: each step due `offset` days after `start_date`.

    Township/park steps go to the project's locality unless the step names a unit;
    department steps need the unit named on the step. Sequence numbers continue after
    the project's last node.
    """
    scope = user_scope(user=actor)
    if not (scope.is_supervisor or actor.is_superuser):
        raise PermissionDenied(_("只有督查办可以按模板生成节点。"))
    steps = list(template.steps.select_related("default_unit").order_by("seq"))
    errors = []
    for step in steps:
        if step.default_unit is None and step.unit_kind == UnitKind.DEPARTMENT:
            errors.append(
                _("步骤“%(step)s”是县直部门的步骤，模板中须指定默认责任单位。")
                % {"step": step.name}
            )
    if errors:
        raise ValidationError(errors)
    last = project.nodes.order_by("-seq").values_list("seq", flat=True).first() or 0
    nodes = []
    for offset, step in enumerate(steps, start=1):
        node = Node(
            project=project,
            seq=last + offset,
            name=step.name,
            unit=step.default_unit or project.locality,
            due_date=start_date + dt.timedelta(days=step.offset_days),
        )
        node.full_clean()
        audited_save(node, actor=actor, reason=_("由模板“%(t)s”生成") % {"t": template.name})
        nodes.append(node)
    return nodes
