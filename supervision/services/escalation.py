"""The sweep: issue the yellow and red cards the rules owe, exactly once, dated by the facts."""

import datetime as dt
import logging
import socket
import traceback
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.bulk import column_update, history_rows_insert, rows_insert_new
from core.formats import date_cn, points_text
from core.i18n import in_record_language
from organization.models import User
from organization.selectors import system_user
from projects.choices import NodeEventKind
from projects.models import Node, NodeEvent
from projects.services import node_event_build
from scoring.choices import EntryKind
from scoring.models import PointsEntry

from .. import rules
from ..choices import CardKind, NotificationKind, RecommitmentStatus
from ..models import Card, Notification, Recommitment, SupervisionItem, SweepRun
from .facts import ESCALATION_SETTLED, EscalationContext, node_facts
from .notifications import notifications_insert, recommitment_waiting_key
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

    def add(self, other: "SweepCounts") -> None:
        """Count in what a committed batch did."""
        for name in ("yellow", "red", "items", "notifications", "nodes_checked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

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
    in batches, in pk order. Each batch is one transaction under the lock of its node rows;
    the unique constraints catch any race left, and a killed pass leaves whole batches.
    A node that fails is recorded in the run's error and retried next pass; the others
    and the reminders go on. E-mail copies are not sent here: the sweep's task queues
    their delivery (supervision.tasks.email_deliver).
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


class _CardTaken(Exception):
    """A card of the batch was already written by another process: the batch is undone."""


def _escalate_batch(ids: list[int], ctx, actor, as_of, counts: SweepCounts) -> None:
    """Work out a batch of nodes in one transaction; a batch that fails is worked again node
    by node, so that one bad node holds back no other and is recorded in the run's error."""
    done = SweepCounts()
    try:
        with transaction.atomic():
            _batch_escalate(ids, ctx, actor, as_of, done)
    except _CardTaken:
        if len(ids) == 1:
            return  # another sweep issued it first: the next pass reads its card
        _escalate_nodes_one_by_one(ids, ctx, actor, as_of, counts)
        return
    except Exception:
        if len(ids) == 1:
            counts.fail(f"node {ids[0]}")
            return
        _escalate_nodes_one_by_one(ids, ctx, actor, as_of, counts)
        return
    counts.add(done)  # counted only once committed


def _escalate_nodes_one_by_one(ids, ctx, actor, as_of, counts) -> None:
    for node_id in ids:
        _escalate_batch([node_id], ctx, actor, as_of, counts)


@dataclass
class _Owed:
    """A card the rules owe a node in this pass, with the facts it was worked out from."""

    node: Node
    due: rules.CardDue
    facts: rules.NodeFacts
    policy: rules.EscalationPolicy
    what: str = ""
    points: Decimal = Decimal(0)
    kind_label: str = ""
    amount: str = ""
    card: Card | None = None
    item: SupervisionItem | None = None
    lapsed: list[Recommitment] = field(default_factory=list)


def _batch_escalate(ids: list[int], ctx, actor, as_of, done: SweepCounts) -> None:
    """One batch, under one lock of its node rows taken in pk order: the rules are evaluated
    once per node in memory, each new card folded into the facts, and the batch's rows are
    written with one insert per table.

    The rows stay locked from the read of their facts to the write of their schedule: a
    service that changes a node's facts meanwhile waits, and then clears the schedule, so a
    schedule worked out from old facts never overwrites its clearing.
    """
    nodes = list(
        Node.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update(of=("self",))
        .select_related("project", "unit")
    )
    done.nodes_checked += len(nodes)
    schedule: dict[Node, dt.datetime | None] = {}
    live = []
    for node in nodes:
        if node.archived_at is not None:
            schedule[node] = ESCALATION_SETTLED  # archived: no card any more
        else:
            live.append(node)
    facts = node_facts(live)
    owed: list[_Owed] = []
    for node in live:
        try:
            cards, evaluation = _cards_owed(facts[node.pk], ctx, as_of)
        except Exception:
            done.fail(f"node {node.pk}")
            continue  # its schedule stays as it was: tried again next pass
        owed += [
            _Owed(node, due, before, ctx.policy_on(clock.local_date(due.breached_at)))
            for due, before in cards
        ]
        schedule[node] = _schedule(evaluation)
    if owed:
        _cards_write(owed, ctx, actor, as_of, done)
    # The schedule column is outside the audit history: a bulk write is right here.
    column_update(
        Node,
        "next_escalation_at",
        {node.pk: at for node, at in schedule.items() if node.next_escalation_at != at},
    )


def _cards_owed(facts: rules.NodeFacts, ctx, as_of):
    """The cards the rules owe (at most a yellow and then a red), each with the facts before
    it, and the evaluation once they are issued."""
    cards = []
    for _round in range(2):
        evaluation = ctx.evaluate(facts, as_of)
        if evaluation.due is None:
            return cards, evaluation
        cards.append((evaluation.due, facts))
        facts = _with_card(facts, evaluation.due, as_of)
    return cards, ctx.evaluate(facts, as_of)


def _with_card(facts: rules.NodeFacts, due: rules.CardDue, as_of) -> rules.NodeFacts:
    """The facts once the card is issued; a red card lapses the pending recommitment."""
    card = rules.CardFact(due.kind, as_of, due.breached_at)
    if due.kind == CardKind.YELLOW:
        return replace(facts, yellow=card)
    recs = tuple(
        replace(r, status=RecommitmentStatus.LAPSED, decided_at=as_of)
        if r.status == RecommitmentStatus.PENDING
        else r
        for r in facts.recommitments
    )
    return replace(facts, red=card, recommitments=recs)


def _schedule(evaluation: rules.Evaluation) -> dt.datetime | None:
    """What to store in Node.next_escalation_at after an evaluation."""
    if evaluation.due is not None:
        return None  # still owed (a race lost, say): work it out again next pass
    return evaluation.next_check_at or ESCALATION_SETTLED


def _cards_write(owed: list[_Owed], ctx, actor: User, as_of, done: SweepCounts) -> None:
    """Write the batch's cards with their deductions, items, lapses, node events and
    notifications: one insert per table, in the order the rows refer to each other."""
    labels = {kind: str(CardKind(kind).label) for kind in CardKind.values}
    for o in owed:
        o.what = _breach_text(o.due, o.facts, ctx)
        o.points = rules.card_points(o.policy, o.due.kind)
        o.kind_label, o.amount = labels[o.due.kind], points_text(o.points)
    entries = PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                unit_id=o.node.unit_id,
                node=o.node,
                kind=EntryKind.CARD_DEDUCTION,
                points=-o.points,
                rule_version_id=o.policy.version_id,
                occurred_at=o.due.breached_at,
                created_by=actor,
                reason=_("%(project)s 节点“%(node)s”%(what)s，%(kind)s扣%(points)s分")
                % {
                    "project": o.node.project,
                    "node": o.node.name,
                    "what": o.what,
                    "kind": o.kind_label,
                    "points": o.amount,
                },
            )
            for o in owed
        ]
    )
    history_rows_insert(entries, user=None, reason=None)
    for o, entry in zip(owed, entries, strict=True):
        o.card = Card(
            node=o.node,
            unit_id=o.node.unit_id,
            kind=o.due.kind,
            deadline=o.due.deadline,
            breached_at=o.due.breached_at,
            issued_at=as_of,
            points=o.points,
            rule_version_id=o.policy.version_id,
            deduction=entry,
        )
    written = {
        (node_id, kind): pk
        for pk, node_id, kind in rows_insert_new(
            [o.card for o in owed], returning=("id", "node", "kind")
        )
    }
    if len(written) < len(owed):
        raise _CardTaken  # another sweep issued one first: undo the batch, its deductions too
    for o in owed:
        o.card.pk = written[(o.node.pk, o.due.kind)]
    history_rows_insert([o.card for o in owed], user=actor, reason=_("系统自动亮牌"))
    reds = [o for o in owed if o.due.kind == CardKind.RED]
    if reds:
        _red_card_follow_up(reds, actor, as_of)
    NodeEvent.objects.bulk_create([event for o in owed for event in _events(o, actor, as_of)])
    ctx.people_load({o.node.unit_id for o in owed})
    new = [notification for o in owed for notification in _card_notifications(o, ctx, as_of)]
    made = notifications_insert(new)
    done.yellow += len(owed) - len(reds)
    done.red += len(reds)
    done.items += len(reds)
    done.notifications += made


def _red_card_follow_up(reds: list[_Owed], actor: User, as_of) -> None:
    """Put the red-carded nodes on the priority supervision list; a pending recommitment
    lapses (locked after the nodes, the one order every writer follows)."""
    items = [
        SupervisionItem(card=o.card, node=o.node, unit_id=o.node.unit_id, opened_at=as_of)
        for o in reds
    ]
    written = dict(rows_insert_new(items, returning=("card", "id")))
    if len(written) < len(items):
        raise _CardTaken
    for o, item in zip(reds, items, strict=True):
        item.pk = written[o.card.pk]
        o.item = item
    history_rows_insert(items, user=actor, reason=_("列入重点督办事项"))
    reason = _("已亮红牌，待审批的重新承诺自动失效")
    by_node = {o.node.pk: o for o in reds}
    pending = list(
        Recommitment.objects.select_for_update(of=("self",))
        .filter(node_id__in=by_node, status=RecommitmentStatus.PENDING)
        .order_by("pk")
    )
    if not pending:
        return
    for rec in pending:
        rec.status = RecommitmentStatus.LAPSED
        rec.decided_at = as_of
        rec.comment = reason
        by_node[rec.node_id].lapsed.append(rec)
    Recommitment.objects.bulk_update(pending, ["status", "decided_at", "comment"])
    history_rows_insert(pending, user=actor, reason=reason, history_type="~")
    # The approvers' "待您审批" is no longer theirs to act on.
    Notification.objects.filter(
        event_key__in=[recommitment_waiting_key(rec.pk) for rec in pending], read_at__isnull=True
    ).update(read_at=as_of)


def _events(o: _Owed, actor: User, as_of) -> list[NodeEvent]:
    """The node's timeline entries of one card, in the order they happened."""
    events = [
        node_event_build(
            node=o.node,
            kind=NodeEventKind.CARD_ISSUED,
            actor=actor,
            at=as_of,
            message=_("%(kind)s：%(what)s，扣%(points)s分")
            % {"kind": o.kind_label, "what": o.what, "points": o.amount},
            card=o.card.pk,
            breached_at=o.due.breached_at.isoformat(),
            points=str(o.points),
        )
    ]
    if o.item is not None:
        events.append(
            node_event_build(
                node=o.node,
                kind=NodeEventKind.ITEM_OPENED,
                actor=actor,
                at=as_of,
                message=_("列入重点督办事项"),
                item=o.item.pk,
            )
        )
    events += [
        node_event_build(
            node=o.node,
            kind=NodeEventKind.RECOMMITMENT_LAPSED,
            actor=actor,
            at=as_of,
            message=rec.comment,
            recommitment=rec.pk,
        )
        for rec in o.lapsed
    ]
    return events


def _card_notifications(o: _Owed, ctx, as_of) -> list[dict]:
    """The card's notifications: the unit's staff, its leaders in charge, the office."""
    recipients = sorted(ctx.card_recipients(o.node.unit_id))
    if not recipients:
        return []
    body = _("责任单位：%(unit)s。%(what)s，扣%(points)s分。") % {
        "unit": o.node.unit,
        "what": o.what,
        "points": o.amount,
    }
    if o.due.kind == CardKind.YELLOW:
        body += _yellow_card_next_step(o.node, o.due, o.facts, ctx, as_of)
    else:
        body += _("已列入重点督办事项。")
    title = _("%(project)s 节点“%(node)s”被亮%(kind)s") % {
        "project": o.node.project,
        "node": o.node.name,
        "kind": o.kind_label,
    }
    return [
        {
            "recipient_id": recipient_id,
            "kind": NotificationKind.CARD_ISSUED,
            "event_key": f"card:{o.card.pk}",
            "title": title[:200],
            "body": body,
            "node_id": o.node.pk,
            "created_at": as_of,
        }
        for recipient_id in recipients
    ]


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
