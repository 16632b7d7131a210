"""The sweep: issue the yellow and red cards the rules owe, exactly once, dated by the facts."""

import datetime as dt
import logging
import socket
import traceback
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.formats import date_cn, points_text
from core.i18n import in_record_language
from organization.models import User
from organization.selectors import system_user
from projects.choices import NodeEventKind
from projects.models import Node
from projects.services import node_event_record
from scoring.choices import EntryKind
from scoring.models import PointsEntry

from .. import rules
from ..choices import CardKind, NotificationKind
from ..models import Card, Notification, SupervisionItem, SweepRun
from .facts import ESCALATION_SETTLED, EscalationContext, node_facts
from .notifications import notifications_create, notifications_deliver
from .records import recommitments_lapse_pending
from .reminders import reminders_send

log = logging.getLogger("nodetrack.sweep")


@dataclass
class SweepCounts:
    yellow: int = 0
    red: int = 0
    items: int = 0
    notifications: int = 0
    nodes_checked: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        """Record a failure and carry on: one bad node must not stop the county's sweep."""
        log.exception("sweep: %s failed", what)
        self.errors.append(f"{what}:\n{traceback.format_exc()}")

    def line(self) -> str:
        return (
            f"yellow={self.yellow} red={self.red} items={self.items} "
            f"notifications={self.notifications}"
        )


def nodes_refresh_escalation(*, node_ids) -> int:
    """Ask the next sweep to work a node's escalation out again, after its facts changed."""
    return Node.objects.filter(pk__in=list(node_ids)).update(next_escalation_at=None)


@in_record_language
def sweep_run(*, as_of: dt.datetime | None = None, batch_size: int | None = None) -> SweepRun:
    """One pass of the sweep as of an instant: cards, their deductions, items and notifications.

    Reads only nodes whose next escalation instant has come (or is not yet worked out),
    in batches, in pk order. Each node's card is written in its own transaction, under
    a row lock, after re-reading its facts; the unique constraints catch any race left.
    A node that fails is recorded in the run's error and retried next pass; the others
    and the reminders go on.
    """
    as_of = as_of or clock.now()
    batch_size = batch_size or settings.NODETRACK_SWEEP_BATCH
    sweep_runs_close_dead(now=clock.now())
    run = SweepRun.objects.create(
        started_at=clock.now(), as_of=as_of, host=socket.gethostname()[:100]
    )
    counts = SweepCounts()
    try:
        ctx = EscalationContext.load()
        actor = system_user()
    except Exception:
        counts.fail("loading the rules and the calendar")
    else:
        try:
            _escalate_due_nodes(ctx, actor, as_of, batch_size, counts)
        except Exception:
            counts.fail("escalation")
        try:
            counts.notifications += reminders_send(ctx=ctx, as_of=as_of)
        except Exception:
            counts.fail("reminders")
        try:
            # E-mail copies go out after each commit; this picks up any a crash left behind.
            notifications_deliver()
        except Exception:
            counts.fail("e-mail delivery")
    run.error = "\n".join(counts.errors)
    run.finished_at = clock.now()
    for name in ("yellow", "red", "items", "notifications", "nodes_checked"):
        setattr(run, name, getattr(counts, name))
    run.save()
    run.counts = counts
    return run


def sweep_runs_close_dead(*, now: dt.datetime) -> int:
    """Close as failed the runs that started and never finished: their process was killed.

    A run older than the cluster's task timeout cannot still be running (the cluster
    kills a task at its timeout). What it committed is counted from the rows it wrote:
    cards and items carry its ``as_of`` as their issue and opening time, notifications as
    their time. Nodes it checked are not recorded anywhere, so that count stays 0.
    """
    cutoff = now - dt.timedelta(seconds=settings.Q_CLUSTER["timeout"])
    closed = 0
    for run in SweepRun.objects.filter(finished_at__isnull=True, started_at__lt=cutoff):
        cards = Card.objects.filter(issued_at=run.as_of)
        closed += SweepRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=now,
            yellow=cards.filter(kind=CardKind.YELLOW).count(),
            red=cards.filter(kind=CardKind.RED).count(),
            items=SupervisionItem.objects.filter(opened_at=run.as_of).count(),
            notifications=Notification.objects.filter(created_at=run.as_of).count(),
            error=_sweep_killed_text(run.error),
        )
    return closed


@in_record_language
def _sweep_killed_text(error: str) -> str:
    """The stored reason of a run closed by a later pass, after what it had recorded."""
    said = _("巡检未正常结束（进程中断），由后续巡检关闭；计数为其已提交的记录。")
    return f"{error}\n{said}" if error else said


def _escalate_due_nodes(ctx, actor, as_of, batch_size, counts) -> None:
    # Two index-friendly reads: nodes never worked out (after an import, say), by pk
    # keyset; then the nodes whose next instant has come, a small set by design.
    last_pk = 0
    while True:
        ids = list(
            Node.objects.filter(next_escalation_at__isnull=True, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_pk = ids[-1]
        _escalate_batch(ids, ctx, actor, as_of, counts)
    due_ids = sorted(
        Node.objects.filter(next_escalation_at__lte=as_of, archived_at__isnull=True)
        .order_by("next_escalation_at", "pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(due_ids), batch_size):
        _escalate_batch(due_ids[start : start + batch_size], ctx, actor, as_of, counts)


def _escalate_batch(ids: list[int], ctx, actor, as_of, counts) -> None:
    """Evaluate a batch with a few queries; only nodes that owe a card get their own transaction.

    The batch's rows stay locked from the read of their facts to the write of their
    schedule: a service that changes a node's facts meanwhile waits, and then clears the
    schedule, so a schedule worked out from old facts never overwrites its clearing.
    """
    owing: list[int] = []
    with transaction.atomic():
        batch = list(
            Node.objects.filter(pk__in=ids)
            .order_by("pk")
            .select_for_update(of=("self",))
            .only(
                "pk",
                "due_date",
                "committed_due_date",
                "completed_at",
                "archived_at",
                "next_escalation_at",
            )
        )
        counts.nodes_checked += len(batch)
        quiet: list[Node] = []
        for node in [node for node in batch if node.archived_at is not None]:
            node.next_escalation_at = ESCALATION_SETTLED  # archived: no card any more
            quiet.append(node)
        batch = [node for node in batch if node.archived_at is None]
        facts = node_facts(batch)
        for node in batch:
            try:
                evaluation = ctx.evaluate(facts[node.pk], as_of)
            except Exception:
                counts.fail(f"node {node.pk}")
                continue
            if evaluation.due is None:
                node.next_escalation_at = _schedule(evaluation)
                quiet.append(node)
            else:
                owing.append(node.pk)
        # The schedule column is outside the audit history: a bulk write is right here.
        Node.objects.bulk_update(quiet, ["next_escalation_at"])
    for node_id in owing:
        issued = SweepCounts()
        try:
            _node_escalate(node_id, ctx, actor, as_of, issued)
        except Exception:
            counts.fail(f"node {node_id}")
        else:  # counted only once committed
            counts.yellow += issued.yellow
            counts.red += issued.red
            counts.items += issued.items
            counts.notifications += issued.notifications


def _schedule(evaluation: rules.Evaluation) -> dt.datetime | None:
    """What to store in Node.next_escalation_at after an evaluation."""
    if evaluation.due is not None:
        return None  # still owed (a race lost, say): work it out again next pass
    return evaluation.next_check_at or ESCALATION_SETTLED


def _node_escalate(node_id: int, ctx, actor: User, as_of, counts: SweepCounts) -> None:
    """Issue what the rules owe one node, all or nothing, under the node's row lock."""
    with transaction.atomic():
        node = (
            Node.objects.select_for_update(of=("self",))
            .select_related("project", "unit")
            .get(pk=node_id)
        )
        if node.archived_at is not None:  # archived since the batch read it
            Node.objects.filter(pk=node.pk).update(next_escalation_at=ESCALATION_SETTLED)
            return
        for _round in range(2):  # at most a yellow and then a red
            facts = node_facts([node])[node.pk]
            evaluation = ctx.evaluate(facts, as_of)
            if evaluation.due is None:
                break
            if not _card_issue(node, evaluation.due, facts, ctx, actor, as_of, counts):
                break
        evaluation = ctx.evaluate(node_facts([node])[node.pk], as_of)
        Node.objects.filter(pk=node.pk).update(next_escalation_at=_schedule(evaluation))


def _card_issue(
    node: Node, due: rules.CardDue, facts: rules.NodeFacts, ctx, actor, as_of, counts
) -> bool:
    """Write one card with its deduction, its supervision item and its notifications."""
    policy = ctx.policy_on(clock.local_date(due.breached_at))
    points = rules.card_points(policy, due.kind)
    kind_label = CardKind(due.kind).label
    what = _breach_text(due, facts, ctx)
    amount = points_text(points)
    try:
        with transaction.atomic():
            deduction = PointsEntry.objects.create(
                unit_id=node.unit_id,
                node=node,
                kind=EntryKind.CARD_DEDUCTION,
                points=-points,
                rule_version_id=policy.version_id,
                occurred_at=due.breached_at,
                created_by=actor,
                reason=_("%(project)s 节点“%(node)s”%(what)s，%(kind)s扣%(points)s分")
                % {
                    "project": node.project,
                    "node": node.name,
                    "what": what,
                    "kind": kind_label,
                    "points": amount,
                },
            )
            card = Card(
                node=node,
                unit_id=node.unit_id,
                kind=due.kind,
                deadline=due.deadline,
                breached_at=due.breached_at,
                issued_at=as_of,
                points=points,
                rule_version_id=policy.version_id,
                deduction=deduction,
            )
            audited_save(card, actor=actor, reason=_("系统自动亮牌"))
    except IntegrityError:
        return False  # another sweep issued it first (its deduction rolls back with it)
    node_event_record(
        node=node,
        kind=NodeEventKind.CARD_ISSUED,
        actor=actor,
        at=as_of,
        message=_("%(kind)s：%(what)s，扣%(points)s分")
        % {"kind": kind_label, "what": what, "points": amount},
        card=card.pk,
        breached_at=due.breached_at.isoformat(),
        points=str(points),
    )
    body = _("责任单位：%(unit)s。%(what)s，扣%(points)s分。") % {
        "unit": node.unit,
        "what": what,
        "points": amount,
    }
    if due.kind == CardKind.YELLOW:
        counts.yellow += 1
        body += _yellow_card_next_step(node, due, facts, ctx, as_of)
    else:
        counts.red += 1
        counts.items += _red_card_follow_up(node, card, actor, as_of)
        body += _("已列入重点督办事项。")
    counts.notifications += notifications_create(
        recipients=ctx.card_recipients(node.unit_id),
        kind=NotificationKind.CARD_ISSUED,
        event_key=f"card:{card.pk}",
        node=node,
        at=as_of,
        title=_("%(project)s 节点“%(node)s”被亮%(kind)s")
        % {"project": node.project, "node": node.name, "kind": kind_label},
        body=body,
    )
    return True


def _breach_text(due: rules.CardDue, facts: rules.NodeFacts, ctx) -> str:
    """What the node failed, in the words of the card's reason (stored texts, no weekday)."""
    day = date_cn(due.deadline, today=clock.local_date(due.breached_at), weekday=False)
    match due.reason:
        case rules.Breach.GRACE:
            return _("未在%(days)s个工作日内提交重新承诺") % {"days": ctx.grace_workdays(facts)}
        case rules.Breach.COMMITTED:
            return _("超过承诺完成时间 %(date)s") % {"date": day}
    return _("超过计划完成时间 %(date)s") % {"date": day}


def _yellow_card_next_step(
    node: Node, due: rules.CardDue, facts: rules.NodeFacts, ctx, as_of
) -> str:
    """What the unit does after a yellow card and by when; nothing for a node already done."""
    if node.completed_at is not None:
        return ""
    carded = replace(facts, yellow=rules.CardFact(due.kind, as_of, due.breached_at))
    window = rules.grace_breach(carded, ctx.grace_workdays(carded), ctx.calendar.is_workday)
    if window is None:
        return ""
    return _("请在%(date)s前说明超期原因并重新承诺完成时间。") % {
        "date": date_cn(window[0], today=clock.local_date(as_of))
    }


def _red_card_follow_up(node: Node, card: Card, actor, as_of) -> int:
    """Put the node on the priority supervision list; a pending recommitment lapses."""
    item = SupervisionItem(card=card, node=node, unit_id=node.unit_id, opened_at=as_of)
    audited_save(item, actor=actor, reason=_("列入重点督办事项"))
    node_event_record(
        node=node,
        kind=NodeEventKind.ITEM_OPENED,
        actor=actor,
        at=as_of,
        message=_("列入重点督办事项"),
        item=item.pk,
    )
    recommitments_lapse_pending(
        node=node, actor=actor, at=as_of, reason=_("已亮红牌，待审批的重新承诺自动失效")
    )
    return 1
