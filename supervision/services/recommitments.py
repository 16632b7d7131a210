"""Recommitments: the unit explains the delay and proposes a date; a leader decides, once."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.formats import date_cn
from core.i18n import in_record_language
from core.text import text_clean
from organization.models import User
from organization.permissions import Action, require
from organization.selectors import recommitment_approvers
from projects.choices import NodeEventKind
from projects.models import Node
from projects.services import node_check_fresh, node_event_record, node_lock
from projects.validators import plan_date_error

from .. import rules
from ..choices import CardKind, NotificationKind, RecommitmentStatus
from ..models import Card, Recommitment
from .escalation import nodes_refresh_escalation
from .facts import EscalationContext, node_facts
from .notifications import (
    notifications_create,
    notifications_settle,
    recommitment_waiting_key,
)


@in_record_language
@transaction.atomic
def recommitment_submit(
    *,
    node: Node,
    actor: User,
    reason: str,
    new_due_date: dt.date,
    seen_updated_at: dt.datetime | None = None,
) -> Recommitment:
    """Unit staff explain why a yellow-carded node is late and re-commit a completion date.

    With `seen_updated_at` (what the user's form showed), a node changed meanwhile is
    refused with Conflict instead of being acted on blind.
    """
    node = node_lock(node)
    require(
        actor,
        Action.REPORT,
        unit_id=node.unit_id,
        message=_("只有责任单位的经办人可以提交重新承诺。"),
    )
    errors: dict[str, list[str]] = {}
    try:
        reason = text_clean(reason, field="reason", label=_("超期原因"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    now = clock.now()
    if new_due_date is None or new_due_date <= clock.local_date(now):
        errors["new_due_date"] = [_("重新承诺完成时间须晚于今天。")]
    elif out_of_range := plan_date_error(new_due_date):
        errors["new_due_date"] = [out_of_range]
    if errors:
        raise ValidationError(errors)
    if node.completed_at is not None:
        raise Conflict(_("节点已办结，无需重新承诺。"), "node_completed")
    node_check_fresh(node, seen_updated_at)
    cards = {c.kind: c for c in Card.objects.filter(node=node)}
    yellow, red = cards.get(CardKind.YELLOW), cards.get(CardKind.RED)
    if yellow is None or yellow.is_revoked:
        raise Conflict(_("节点未被亮黄牌，无需重新承诺。"), "node_not_yellow")
    if red is not None and not red.is_revoked:
        raise Conflict(_("节点已被亮红牌，不能再重新承诺。"), "node_red")
    if Recommitment.objects.filter(node=node, status=RecommitmentStatus.PENDING).exists():
        raise Conflict(_("该节点已有待审批的重新承诺。"), "already_pending")
    evaluation = EscalationContext.load().evaluate(node_facts([node])[node.pk], now)
    if evaluation.due is not None:
        raise Conflict(_("说明期限已过，红牌即将发出，不能再提交重新承诺。"), "grace_expired")

    rec = Recommitment(
        node=node,
        reason=reason,
        new_due_date=new_due_date,
        submitted_by=actor,
        submitted_at=now,
    )
    rec.full_clean()
    try:
        with transaction.atomic():
            audited_save(rec, actor=actor, reason=_("提交重新承诺"))
    except IntegrityError as exc:
        raise Conflict(_("该节点已有待审批的重新承诺。"), "already_pending") from exc
    node_event_record(
        node=node,
        kind=NodeEventKind.RECOMMITMENT_SUBMITTED,
        actor=actor,
        at=now,
        message=_("提交重新承诺：%(date)s前完成")
        % {"date": date_cn(new_due_date, today=clock.local_date(now))},
        recommitment=rec.pk,
        reason=reason,
        new_due_date=new_due_date.isoformat(),
    )
    notifications_create(
        recipients=recommitment_approvers(unit_id=node.unit_id),
        kind=NotificationKind.RECOMMITMENT_WAITING,
        event_key=recommitment_waiting_key(rec.pk),
        node=node,
        at=now,
        title=_("%(project)s 节点“%(node)s”：%(unit)s 提交了重新承诺，待您审批")
        % {"project": node.project, "node": node.name, "unit": node.unit},
        body=_("申请于%(date)s前完成。超期原因：%(reason)s")
        % {"date": date_cn(new_due_date, today=clock.local_date(now)), "reason": reason},
    )
    nodes_refresh_escalation(node_ids=[node.pk])
    return rec


@in_record_language
@transaction.atomic
def recommitment_decide(
    *, recommitment: Recommitment, actor: User, approve: bool, comment: str = ""
) -> Recommitment:
    """A leader in charge of the unit, or a principal leader, approves or rejects; final."""
    # The node first, then the recommitment, as the sweep and the other services lock: a
    # red card or a revocation that lapses it is either committed before (its status, read
    # under the lock, says so) or waits for this decision.
    node_id = (
        Recommitment.objects.filter(pk=recommitment.pk).values_list("node_id", flat=True).get()
    )
    node = (
        Node.objects.select_for_update(of=("self",))
        .select_related("project", "unit")
        .get(pk=node_id)
    )
    rec = (
        Recommitment.objects.select_for_update(of=("self",))
        .select_related("submitted_by")
        .get(pk=recommitment.pk)
    )
    rec.node = node
    require(actor, Action.DECIDE, unit_id=node.unit_id)
    if rec.submitted_by_id == actor.pk:
        raise PermissionDenied(_("不能审批自己提交的重新承诺，请由其他分管领导或主要领导审批。"))
    if rec.status != RecommitmentStatus.PENDING:
        raise Conflict(_("该重新承诺已经审批或已失效，不能再次审批。"), "already_decided")
    comment = text_clean(
        comment,
        field="comment",
        label=_("审批意见"),
        required=not approve,
        required_message=_("驳回时须填写审批意见。"),
    )
    now = clock.now()
    if approve and rec.new_due_date < clock.local_date(now):
        raise Conflict(_("承诺完成时间已过，不能批准，请驳回后由单位重新提交。"), "date_passed")

    rec.status = RecommitmentStatus.APPROVED if approve else RecommitmentStatus.REJECTED
    rec.decided_by = actor
    rec.decided_at = now
    rec.comment = comment
    audited_save(rec, actor=actor, reason=rec.get_status_display())
    if approve:
        old = node.committed_due_date
        node.committed_due_date = rec.new_due_date
        audited_save(
            node,
            actor=actor,
            reason=_("批准重新承诺"),
            update_fields=["committed_due_date", "updated_at"],
        )
        message = _("批准重新承诺：%(date)s前完成") % {
            "date": date_cn(rec.new_due_date, today=clock.local_date(now))
        }
        kind = NodeEventKind.RECOMMITMENT_APPROVED
        extra = {"old_committed_due_date": old.isoformat() if old else None}
    else:
        message = _("驳回重新承诺：%(comment)s") % {"comment": comment}
        kind = NodeEventKind.RECOMMITMENT_REJECTED
        extra = {}
    node_event_record(
        node=node,
        kind=kind,
        actor=actor,
        at=now,
        message=message,
        recommitment=rec.pk,
        comment=comment,
        new_due_date=rec.new_due_date.isoformat(),
        **extra,
    )
    notifications_settle(event_key=recommitment_waiting_key(rec.pk), at=now)
    notifications_create(
        recipients=[rec.submitted_by],
        kind=NotificationKind.RECOMMITMENT_DECIDED,
        event_key=f"recommitment:{rec.pk}:decided",
        node=node,
        at=now,
        title=_("%(project)s 节点“%(node)s”：重新承诺%(status)s")
        % {"project": node.project, "node": node.name, "status": rec.get_status_display()},
        body=_decision_text(rec, node, now),
    )
    nodes_refresh_escalation(node_ids=[node.pk])
    return rec


def _decision_text(rec: Recommitment, node: Node, now: dt.datetime) -> str:
    """What the unit reads of a decision: the date now committed, or why not and what next."""
    today = clock.local_date(now)
    if rec.status == RecommitmentStatus.APPROVED:
        text = _("承诺完成时间：%(date)s。") % {"date": date_cn(rec.new_due_date, today=today)}
        if rec.comment:
            text += _("审批意见：%(comment)s") % {"comment": rec.comment}
        return text
    ctx = EscalationContext.load()
    facts = node_facts([node])[node.pk]
    window = None
    if facts.yellow is not None:
        window = rules.grace_breach(facts, ctx.grace_workdays(facts), ctx.calendar.is_workday)
    text = ""
    if window is not None and window[1] > now:
        text = _("请在%(date)s前重新说明超期原因并重新承诺完成时间。") % {
            "date": date_cn(window[0], today=today)
        }
    return text + _("驳回意见：%(comment)s") % {"comment": rec.comment}
