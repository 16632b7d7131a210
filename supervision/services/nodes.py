"""The node facts that decide cards: completion and the planned date, one service each.

Every entry point (pages, the API, the ledger import, the demo, the admin) calls these, so
their follow-ups cannot be forgotten: a pending recommitment lapses, an open supervision
item becomes ready to close, the event is recorded and the node's escalation is worked
out again by the next sweep.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.formats import date_cn, points_text
from core.i18n import in_record_language
from core.text import text_clean
from organization.models import User
from organization.permissions import Action, require
from projects.choices import CompletionSource, NodeEventKind
from projects.models import Node, Project
from projects.services import (
    evidence_clean,
    node_check_fresh,
    node_event_record,
    node_lock,
    progress_report_create,
)
from projects.validators import plan_date_error
from scoring.selectors import yellow_points_on
from scoring.services import node_early_bonus_award

from ..choices import CardKind, ItemStatus
from ..models import SupervisionItem
from .escalation import nodes_refresh_escalation
from .records import recommitments_lapse_pending

_COMPLETION_HISTORY = {
    CompletionSource.STAFF: gettext_lazy("办结"),
    CompletionSource.LEDGER: gettext_lazy("台账导入"),
    CompletionSource.ADMIN: gettext_lazy("补录办结"),
}


@in_record_language
@transaction.atomic
def node_complete(
    *,
    node: Node,
    actor: User,
    source: str = CompletionSource.STAFF,
    completed_at: dt.datetime | None = None,
    note: str = "",
    files=(),
    seen_updated_at: dt.datetime | None = None,
) -> Node:
    """A node is done (办结), now by its unit's staff, or at a given instant from a ledger or a correction.

    Leaves a completion report with its evidence files (checked by size and content; when
    one is refused nothing is saved); a pending recommitment lapses and an open
    supervision item becomes ready to close. A node completed late still keeps (and may
    still earn) its cards; one completed before its planned date earns the rule's early
    bonus, when the rule gives one. With `seen_updated_at` (what the user's form showed), a node
    changed meanwhile is refused with Conflict.
    """
    source = CompletionSource(source)
    node = node_lock(node)
    if source is CompletionSource.STAFF:
        require(actor, Action.REPORT, unit_id=node.unit_id)
        if completed_at is not None:
            raise ValueError("staff complete a node now; a past instant needs another source")
    else:
        require(actor, Action.PLAN)
    errors: dict[str, list[str]] = {}
    try:
        note = text_clean(note, field="note", label=_("说明"), required=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    files = evidence_clean(errors=errors, files=files)
    now = clock.now()
    at = completed_at or now
    if clock.local_date(at) > clock.local_date(now):
        errors["completed_at"] = [_("办结日期不能晚于今天。")]
    if errors:
        raise ValidationError(errors)
    if node.completed_at is not None:
        raise Conflict(_("节点已办结。"), "node_completed")
    node_check_fresh(node, seen_updated_at)
    report = progress_report_create(
        node=node, actor=actor, percent=100, note=note, files=files, is_completion=True
    )
    node.completed_at = at
    node.progress = 100
    audited_save(
        node,
        actor=actor,
        reason=_COMPLETION_HISTORY[source],
        update_fields=["completed_at", "progress", "updated_at"],
    )
    # Ahead of plan, by the rule of the completion day (off while its bonus is 0).
    node_early_bonus_award(node=node, completed_at=at, actor=actor)
    if source is CompletionSource.STAFF:
        message = _("节点办结")
    elif source is CompletionSource.LEDGER:
        message = _("节点办结（台账导入，办结日期%(date)s）") % {
            "date": clock.local_date(at).isoformat()
        }
    else:
        message = _("节点办结（补录，办结日期%(date)s）") % {
            "date": clock.local_date(at).isoformat()
        }
    node_event_record(
        node=node,
        kind=NodeEventKind.COMPLETED,
        actor=actor,
        at=now,
        message=message,
        report=report.pk,
        source=source.value,
        completed_at=at.isoformat(),
    )
    for item in SupervisionItem.objects.select_for_update(of=("self",)).filter(
        node=node, status=ItemStatus.OPEN, ready_to_close_at__isnull=True
    ):
        item.ready_to_close_at = now
        audited_save(item, actor=actor, reason=_("节点已办结，可销号"))
    recommitments_lapse_pending(
        node=node, actor=actor, at=now, reason=_("节点已办结，重新承诺无需审批")
    )
    nodes_refresh_escalation(node_ids=[node.pk])
    return node


def node_backdate_card(*, node: Node, due_date: dt.date) -> str | None:
    """The card a move of the planned date to `due_date` would cause, in words, or None.

    An open node moved to before today is breached already: the next sweep gives it a
    yellow card dated the day after the new date. A completed node moved to before the day
    it was completed was completed late: the same card, after the fact. A node that holds a
    yellow card in force gets no second one from its planned date.
    """
    if node.completed_at is not None:
        if due_date >= clock.local_date(node.completed_at):
            return None
        why = _("早于该节点的办结日期%(done)s") % {
            "done": clock.local_date(node.completed_at).isoformat()
        }
    else:
        if due_date >= clock.today():
            return None
        why = _("早于今天")
    if node.cards.filter(kind=CardKind.YELLOW, revoked_at__isnull=True).exists():
        return None
    breach_day = clock.local_date(clock.end_of_day_instant(due_date))
    return _(
        "节点“%(node)s”的新计划完成日期%(date)s%(why)s，下一次巡查将补记一张黄牌，扣%(points)s分。"
    ) % {
        "node": node,
        "date": due_date.isoformat(),
        "why": why,
        "points": points_text(yellow_points_on(breach_day)),
    }


@in_record_language
@transaction.atomic
def node_change_due_date(
    *,
    node: Node,
    actor: User,
    due_date: dt.date,
    reason: str,
    confirm_backdate: bool = False,
) -> Node:
    """The office (or a ledger import) moves a node's planned date, with a reason kept in history.

    A move that would cause a card after the fact (node_backdate_card) is refused unless
    `confirm_backdate` says the caller saw that card named and wants it.
    """
    require(actor, Action.PLAN, message=_("只有督查办可以调整节点时间。"))
    reason = text_clean(reason, field="reason", label=_("调整理由"))
    if out_of_range := plan_date_error(due_date):
        raise ValidationError({"due_date": [out_of_range]})
    node = node_lock(node)
    if node.due_date == due_date:
        return node
    card = node_backdate_card(node=node, due_date=due_date)
    if card and not confirm_backdate:
        raise ValidationError(
            {"due_date": [card + _("如确需补记，请勾选确认后再提交。")]}, code="backdate"
        )
    old = node.due_date
    node.due_date = due_date
    node.full_clean()
    audited_save(node, actor=actor, reason=reason, update_fields=["due_date", "updated_at"])
    node_event_record(
        node=node,
        kind=NodeEventKind.DUE_CHANGED,
        actor=actor,
        at=clock.now(),
        message=_("节点时间由 %(old)s 调整为 %(new)s：%(reason)s")
        % {
            "old": date_cn(old, today=clock.today(), weekday=False),
            "new": date_cn(due_date, today=clock.today(), weekday=False),
            "reason": reason,
        },
        old=old.isoformat(),
        new=due_date.isoformat(),
    )
    nodes_refresh_escalation(node_ids=[node.pk])
    return node


def _node_archive_locked(*, node: Node, actor: User, reason: str, at: dt.datetime) -> None:
    """Archive a node already read under its lock, with its event; a pending recommitment lapses."""
    node.archived_at = at
    node.archived_by = actor
    audited_save(
        node, actor=actor, reason=reason, update_fields=["archived_at", "archived_by", "updated_at"]
    )
    node_event_record(
        node=node,
        kind=NodeEventKind.ARCHIVED,
        actor=actor,
        at=at,
        message=_("节点归档：%(reason)s") % {"reason": reason},
        reason=reason,
    )
    recommitments_lapse_pending(
        node=node, actor=actor, at=at, reason=_("节点已归档，重新承诺无需审批")
    )


@in_record_language
@transaction.atomic
def node_archive(*, node: Node, actor: User, reason: str) -> Node:
    """The office archives a node (nodes are archived, never deleted), with a reason kept in history.

    An archived node gets no new card and no reminder and leaves the staff's lists; the
    cards it already holds stay.
    """
    require(actor, Action.SUPERVISE, message=_("只有督查办可以归档节点。"))
    reason = text_clean(reason, field="reason", label=_("归档理由"))
    node = node_lock(node)
    if node.archived_at is not None:
        raise Conflict(_("节点已归档。"), "node_archived")
    _node_archive_locked(node=node, actor=actor, reason=reason, at=clock.now())
    nodes_refresh_escalation(node_ids=[node.pk])
    return node


@in_record_language
@transaction.atomic
def project_archive(*, project: Project, actor: User, reason: str) -> Project:
    """The office archives a project and its open nodes (neither is ever deleted), with a reason."""
    require(actor, Action.SUPERVISE, message=_("只有督查办可以归档项目。"))
    reason = text_clean(reason, field="reason", label=_("归档理由"))
    project = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
    if project.archived_at is not None:
        raise Conflict(_("项目已归档。"), "project_archived")
    now = clock.now()
    archived = []
    for node_id in (
        Node.objects.filter(project=project, completed_at__isnull=True, archived_at__isnull=True)
        .order_by("pk")  # the sweep's lock order
        .values_list("pk", flat=True)
    ):
        node = node_lock(node_id)
        if node.completed_at is None and node.archived_at is None:
            _node_archive_locked(node=node, actor=actor, reason=reason, at=now)
            archived.append(node.pk)
    project.archived_at = now
    project.archived_by = actor
    audited_save(project, actor=actor, reason=reason, update_fields=["archived_at", "archived_by"])
    if archived:
        nodes_refresh_escalation(node_ids=archived)
    return project
