"""Writes about projects and nodes that feed no escalation: the timeline, progress and templates.

Completion and due-date changes decide cards, so they live with escalation
(supervision.services.nodes).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.files import uploads_clean
from core.i18n import in_record_language
from core.text import text_clean
from organization.choices import UnitKind
from organization.models import User
from organization.permissions import Action, may, require

from .choices import NodeEventKind
from .models import Node, NodeEvent, NodeTemplate, ProgressAttachment, ProgressReport, Project


def node_event_record(
    *, node: Node, kind: str, actor: User | None, at: dt.datetime, message: str, **data
) -> NodeEvent:
    """Append one business fact to a node's timeline."""
    event = node_event_build(node=node, kind=kind, actor=actor, at=at, message=message, **data)
    event.save()
    return event


def node_event_build(
    *, node: Node, kind: str, actor: User | None, at: dt.datetime, message: str, **data
) -> NodeEvent:
    """One business fact of a node's timeline, not yet saved: for a bulk insert of many."""
    return NodeEvent(
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


NODE_STALE = gettext_lazy("该节点已被他人更新，请查看最新情况后再提交。")


def node_check_fresh(node: Node, seen_updated_at: dt.datetime | None) -> None:
    """Refuse a stale edit: the node (read under its lock) changed since the user saw it.

    `seen_updated_at` is the node's `updated_at` as the user's form showed it; None (the
    API, the import) skips the check.
    """
    if seen_updated_at is not None and node.updated_at != seen_updated_at:
        raise Conflict(str(NODE_STALE), "node_changed")


def evidence_clean(*, errors: dict, files, field: str = "files") -> list:
    """The evidence files checked (core.files.uploads_clean); refusals go into `errors`."""
    try:
        return uploads_clean(files, field=field)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return []


def _progress_clean(*, percent, note: str, files=()) -> tuple[int, str, list, dict]:
    """A report's percent, note and files checked together, so every field's error shows at once."""
    errors: dict[str, list[str]] = {}
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        errors["percent"] = [_("进度须为0到100之间的整数。")]
    try:
        note = text_clean(note, field="note", label=_("说明"), required=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    files = evidence_clean(errors=errors, files=files)
    return percent, note, files, errors


def progress_report_create(
    *, node: Node, actor: User, percent: int, note: str, files=(), is_completion: bool = False
) -> ProgressReport:
    """A progress report with its evidence files, already checked (the caller holds the node's lock)."""
    report = ProgressReport(
        node=node, percent=percent, note=note, author=actor, is_completion=is_completion
    )
    report.full_clean()
    report.save()
    for f in files:
        name = (f.name or "").replace("\x00", "")[:200]
        ProgressAttachment.objects.create(report=report, file=f, name=name)
    return report


def _progress_write(*, node: Node, actor: User, percent: int, note: str, files) -> ProgressReport:
    """Write a checked report on a locked node: the report, the node's percent, the event."""
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
def node_progress_report(
    *,
    node: Node,
    actor: User,
    percent: int,
    note: str = "",
    files=(),
    seen_updated_at: dt.datetime | None = None,
) -> ProgressReport:
    """Unit staff report a node's progress (percent done, a note, evidence files).

    Files are checked by size and content (core.files); when one is refused nothing is
    saved. With `seen_updated_at` (what the user's form showed), a node changed meanwhile
    is refused with Conflict instead of being overwritten.
    """
    node = node_lock(node)
    require(actor, Action.REPORT, unit_id=node.unit_id)
    percent, note, files, errors = _progress_clean(percent=percent, note=note, files=files)
    if errors:
        raise ValidationError(errors)
    if node.completed_at is not None:
        raise Conflict(_("节点已办结，不能再填报进度。"), "node_completed")
    node_check_fresh(node, seen_updated_at)
    return _progress_write(node=node, actor=actor, percent=percent, note=note, files=files)


@dataclass(frozen=True)
class WeeklyRow:
    """One node's line of the weekly update: the new percent and note, and what the user saw."""

    node_id: int
    percent: int | None
    note: str = ""
    seen_updated_at: dt.datetime | None = None


def weekly_error_key(node_id: int, field: str | None = None) -> str:
    """The key of a row's error in the weekly update's ValidationError: "12.percent", or "12"
    for what concerns the whole row (the node was completed or changed meanwhile)."""
    return f"{node_id}.{field}" if field else str(node_id)


@in_record_language
@transaction.atomic
def nodes_progress_report_weekly(*, actor: User, rows: Sequence[WeeklyRow]) -> list[ProgressReport]:
    """The weekly update: a progress report for every row whose percent or note changed, all or none.

    Rows whose percent equals the node's and whose note is empty write nothing. Every
    row is checked before anything is written; one ValidationError then names each
    refused row (keys from weekly_error_key), and nothing is saved. A node outside the
    actor's units refuses the whole update (PermissionDenied), as a page never offers it.
    """
    ids = sorted({row.node_id for row in rows})
    nodes = {
        n.pk: n
        for n in Node.objects.select_for_update(of=("self",))
        .select_related("project", "unit")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    errors: dict[str, list[str]] = {}
    todo: list[tuple[Node, int, str]] = []
    for row in rows:
        node = nodes.get(row.node_id)
        if node is None or not may(actor, Action.REPORT, unit_id=node.unit_id):
            raise PermissionDenied(_("只有责任单位的经办人可以填报该节点。"))
        note = (row.note or "").strip()
        if row.percent == node.progress and not note:
            continue
        percent, note, _files, row_errors = _progress_clean(percent=row.percent, note=note)
        for field, messages in row_errors.items():
            errors[weekly_error_key(node.pk, field)] = messages
        if node.completed_at is not None:
            errors[weekly_error_key(node.pk)] = [_("节点已办结，不能再填报进度。")]
        elif row.seen_updated_at is not None and node.updated_at != row.seen_updated_at:
            errors[weekly_error_key(node.pk)] = [str(NODE_STALE)]
        if not row_errors:
            todo.append((node, percent, note))
    if errors:
        raise ValidationError(errors)
    return [
        _progress_write(node=node, actor=actor, percent=percent, note=note, files=())
        for node, percent, note in todo
    ]


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
