"""Writes about projects and nodes that feed no escalation: the timeline, progress and templates.

Completion and due-date changes decide cards, so they live with escalation
(supervision.services.nodes).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.i18n import in_record_language
from core.text import text_clean
from organization.choices import UnitKind
from organization.models import User
from organization.permissions import Action, require

from .choices import NodeEventKind
from .models import Node, NodeEvent, NodeTemplate, ProgressAttachment, ProgressReport, Project


def node_event_record(
    *, node: Node, kind: str, actor: User | None, at: dt.datetime, message: str, **data
) -> NodeEvent:
    """Append one business fact to a node's timeline."""
    return NodeEvent.objects.create(
        node=node, kind=kind, actor=actor, occurred_at=at, message=message[:500], data=data
    )


def node_lock(node: Node | int) -> Node:
    """The node (or node id) re-read under its row lock: every write about a node takes this
    lock first, then locks the rows about it (recommitments, items), so writers never cross."""
    return (
        Node.objects.select_for_update(of=("self",))
        .select_related("project", "unit")
        .get(pk=node if isinstance(node, int) else node.pk)
    )


def progress_report_create(
    *, node: Node, actor: User, percent: int, note: str, files=(), is_completion: bool = False
) -> ProgressReport:
    """A progress report with its evidence files (the caller holds the node's lock)."""
    report = ProgressReport(
        node=node, percent=percent, note=note, author=actor, is_completion=is_completion
    )
    report.full_clean()
    report.save()
    for f in files:
        ProgressAttachment.objects.create(report=report, file=f, name=f.name[:200])
    return report


@in_record_language
@transaction.atomic
def node_progress_report(
    *, node: Node, actor: User, percent: int, note: str = "", files=()
) -> ProgressReport:
    """Unit staff report a node's progress (percent done, a note, evidence files)."""
    node = node_lock(node)
    require(actor, Action.REPORT, unit_id=node.unit_id)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValidationError({"percent": [_("进度须为0到100之间的整数。")]})
    note = text_clean(note, field="note", label=_("说明"), required=False)
    if node.completed_at is not None:
        raise Conflict(_("节点已办结，不能再填报进度。"), "node_completed")
    report = progress_report_create(node=node, actor=actor, percent=percent, note=note, files=files)
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
def node_template_apply(
    *, project: Project, template: NodeTemplate, start_date: dt.date, actor: User
) -> list[Node]:
    """Create a project's nodes from a template: each step due `offset` days after `start_date`.

    Township/park steps go to the project's locality unless the step names a unit;
    department steps need the unit named on the step. Sequence numbers continue after
    the project's last node. New nodes are picked up by the next sweep (their escalation
    instant is not yet worked out).
    """
    require(actor, Action.MAINTAIN, message=_("只有督查办可以按模板生成节点。"))
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
