"""The escalation rules as pure functions: from a node's facts and an instant, which cards are due.

Nothing here reads the database or the clock; every instant is passed in. See domain.md,
"Escalation rules (exact)".
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from core.clock import end_of_day_instant, local_date
from core.versioning import in_force

from .choices import CardKind, Light, RecommitmentStatus

IsWorkday = Callable[[dt.date], bool]


@dataclass(frozen=True)
class EscalationPolicy:
    """The escalation rule in force from `effective_from`: card points, grace window, reminders."""

    version_id: int | None
    effective_from: dt.date
    yellow_points: Decimal = Decimal("1.00")
    red_points: Decimal = Decimal("2.00")
    grace_workdays: int = 3
    reminder_days: tuple[int, ...] = (3, 1)
    lag_points: int = 30
    stale_days: int = 14
    stale_horizon_days: int = 30
    early_bonus_points: Decimal = Decimal("0.00")


def policy_on(policies: Sequence[EscalationPolicy], day: dt.date) -> EscalationPolicy:
    """The policy in force on `day` (before the first, the first)."""
    return in_force(policies, day)


@dataclass(frozen=True)
class CardFact:
    """A card the node holds (not revoked): when it was issued and its breach instant (its date)."""

    kind: str
    issued_at: dt.datetime
    breached_at: dt.datetime | None = None


@dataclass(frozen=True)
class RecommitmentFact:
    """A recommitment as the rules see it: when it came, how it was decided, the date it set."""

    submitted_at: dt.datetime
    status: str  # pending, approved, rejected, lapsed
    decided_at: dt.datetime | None = None
    new_due_date: dt.date | None = None


@dataclass(frozen=True)
class NodeFacts:
    """Everything about a node that decides its cards."""

    due_date: dt.date
    # As stored on the node (reminders read it). The rules do not: a cycle's committed date
    # is the date of its own latest approved recommitment, so a stale one cannot rule.
    committed_due_date: dt.date | None = None
    completed_at: dt.datetime | None = None
    yellow: CardFact | None = None
    red: CardFact | None = None
    recommitments: Sequence[RecommitmentFact] = ()
    # (kind, deadline) of every revoked card: a revoked card is not issued again for the
    # same deadline, but a new deadline (a moved due date, an approved date) may earn one.
    revoked: frozenset[tuple[str, dt.date]] = frozenset()


class Breach(StrEnum):
    """Which deadline a card breaks, so that its texts can say what happened."""

    DUE_DATE = "due_date"  # the node's planned date passed (the yellow card)
    GRACE = "grace"  # no recommitment came within the grace window
    COMMITTED = "committed"  # an approved committed date passed


@dataclass(frozen=True)
class CardDue:
    """A card the rules owe the node: its kind, the deadline it breaks, the breach instant and
    which deadline that is."""

    kind: str
    deadline: dt.date
    breached_at: dt.datetime
    reason: Breach


@dataclass(frozen=True)
class Evaluation:
    """What is due as of an instant, and the next instant at which something may become due."""

    due: CardDue | None
    next_check_at: dt.datetime | None


def card_points(policy: EscalationPolicy, kind: str) -> Decimal:
    """The points a card of `kind` costs under `policy`; an unknown kind is an error, not a red card."""
    match kind:
        case CardKind.YELLOW:
            return policy.yellow_points
        case CardKind.RED:
            return policy.red_points
    raise ValueError(f"unknown card kind: {kind!r}")


def grace_deadline(anchor: dt.date, workdays: int, is_workday: IsWorkday) -> dt.date:
    """The last day of a window of `workdays` working days counted after the day `anchor`.

    "3个工作日内" from Friday 2026-11-27 runs to the end of Wednesday 2026-12-02.
    """
    day, counted = anchor, 0
    while counted < workdays:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def _completed_before(facts: NodeFacts, instant: dt.datetime) -> bool:
    return facts.completed_at is not None and facts.completed_at < instant


def _cycle_recommitments(facts: NodeFacts) -> list[RecommitmentFact]:
    """The recommitments of the yellow card's cycle, in order: those submitted since its issue.

    Each yellow card opens a cycle. What was submitted before it belongs to an earlier
    cycle (one a revocation ended) and has no say over this card's red card.
    """
    assert facts.yellow is not None
    return sorted(
        (r for r in facts.recommitments if r.submitted_at >= facts.yellow.issued_at),
        key=lambda r: r.submitted_at,
    )


def _committed_deadlines(facts: NodeFacts) -> list[dt.date]:
    """The cycle's committed dates that can earn its red card.

    The latest approved date rules; an earlier approved date still counts when it was
    breached before the next approval replaced it, since cards follow from dates, not from
    when the sweep happened to look.
    """
    approved = sorted(
        (r for r in _cycle_recommitments(facts) if r.status == RecommitmentStatus.APPROVED),
        key=lambda r: r.decided_at or r.submitted_at,
    )
    deadlines = [
        current.new_due_date
        for current, following in zip(approved, approved[1:], strict=False)
        if current.new_due_date is not None
        and end_of_day_instant(current.new_due_date)
        <= (following.decided_at or following.submitted_at)
    ]
    if approved and approved[-1].new_due_date is not None:
        deadlines.append(approved[-1].new_due_date)
    return deadlines


def grace_breach(
    facts: NodeFacts, workdays: int, is_workday: IsWorkday
) -> tuple[dt.date, dt.datetime] | None:
    """The deadline and breach instant of the running grace window, or None if the clock stopped.

    The window opens when the yellow card is issued and again at each rejection. A
    recommitment submitted inside the window stops the clock; one submitted after the
    window closed does not reopen it, unless the red card of that window was revoked.
    Only the recommitments of the yellow card's cycle count.
    """
    assert facts.yellow is not None
    anchor = local_date(facts.yellow.issued_at)
    for rec in _cycle_recommitments(facts):
        deadline = grace_deadline(anchor, workdays, is_workday)
        breach = end_of_day_instant(deadline)
        if rec.submitted_at >= breach and (CardKind.RED, deadline) not in facts.revoked:
            return deadline, breach
        if rec.status == RecommitmentStatus.REJECTED and rec.decided_at is not None:
            anchor = local_date(rec.decided_at)
            continue
        return None  # pending, approved (the committed date now rules) or lapsed
    deadline = grace_deadline(anchor, workdays, is_workday)
    return deadline, end_of_day_instant(deadline)


def evaluate(
    facts: NodeFacts, as_of: dt.datetime, *, grace_workdays: int, is_workday: IsWorkday
) -> Evaluation:
    """Which card (at most one, the next in order) is due as of `as_of`, and when to look again."""
    yellow_breach = end_of_day_instant(facts.due_date)
    if facts.yellow is None:
        if (
            _completed_before(facts, yellow_breach)
            or (CardKind.YELLOW, facts.due_date) in facts.revoked
        ):
            return Evaluation(None, None)
        if as_of >= yellow_breach:
            return Evaluation(
                CardDue(CardKind.YELLOW, facts.due_date, yellow_breach, Breach.DUE_DATE), None
            )
        return Evaluation(None, yellow_breach)

    if facts.red is not None:
        return Evaluation(None, None)

    # Committed dates first: on a tie with the grace window, the approved date is the reason.
    candidates: list[CardDue] = [
        CardDue(CardKind.RED, committed, end_of_day_instant(committed), Breach.COMMITTED)
        for committed in _committed_deadlines(facts)
    ]
    grace = grace_breach(facts, grace_workdays, is_workday)
    if grace is not None:
        candidates.append(CardDue(CardKind.RED, grace[0], grace[1], Breach.GRACE))
    # A red card is never dated before the yellow card it follows.
    floor = facts.yellow.breached_at
    if floor is not None:
        candidates = [replace(c, breached_at=max(c.breached_at, floor)) for c in candidates]
    candidates = [
        c
        for c in candidates
        if not _completed_before(facts, c.breached_at)
        and (CardKind.RED, c.deadline) not in facts.revoked
    ]
    if not candidates:
        return Evaluation(None, None)
    first = min(candidates, key=lambda c: c.breached_at)
    if as_of >= first.breached_at:
        return Evaluation(first, None)
    return Evaluation(None, first.breached_at)


def reminder_due(
    *, due_date: dt.date, today: dt.date, completed: bool, reminder_days: Sequence[int]
) -> int | None:
    """Which "N days before" reminder is due today for a deadline, if any.

    The nearest applicable one: with (3, 1), two days before the 3-day reminder is due, on
    the eve the 1-day one. A sweep after an outage sends only the most urgent, not both.
    """
    if completed or today > due_date:
        return None
    left = (due_date - today).days
    applicable = [d for d in reminder_days if d >= left]
    return min(applicable) if applicable else None


def behind_time_share(
    *, start: dt.date, due: dt.date, today: dt.date, progress: int, lag_points: int
) -> bool:
    """Is the reported progress more than `lag_points` behind the share of the node's time
    already used, from `start` to `due`? (序时进度: 60% of the time gone wants 60% done.)

    Time share = (today - start) / (due - start), held between 0 and 1; behind when
    time share * 100 - progress > lag_points. Whole-number arithmetic, so that the database's
    version of this rule agrees exactly: behind when
    (today - start) * 100 > (progress + lag_points) * (due - start).
    A node due on or before its start has no time to share: all of it is used on its due day.
    """
    span = (due - start).days
    if span <= 0:
        return today >= due and 100 - progress > lag_points
    used = min(max((today - start).days, 0), span)
    return used * 100 > (progress + lag_points) * span


def behind_points(*, start: dt.date, due: dt.date, today: dt.date, progress: int) -> int:
    """How many points the progress is behind the time share (rounded down; 0 or less when
    it is not behind): what the digest says, "落后序时进度N个百分点"."""
    span = (due - start).days
    if span <= 0:
        return 100 - progress if today >= due else -progress
    used = min(max((today - start).days, 0), span)
    return used * 100 // span - progress


def silent_too_long(
    *,
    created_on: dt.date,
    due: dt.date,
    today: dt.date,
    last_report_on: dt.date | None,
    stale_days: int,
    horizon_days: int,
) -> bool:
    """Has the node gone `stale_days` or more without a progress report (counted from the day
    it was created when it never had one) while its due date is at most `horizon_days` away?"""
    return (today - (last_report_on or created_on)).days >= stale_days and (
        due - today
    ).days <= horizon_days


def silent_days(*, created_on: dt.date, today: dt.date, last_report_on: dt.date | None) -> int:
    """Days since the last progress report, or since the node was created when it has none."""
    return (today - (last_report_on or created_on)).days


def node_lagging(
    *,
    start: dt.date,
    created_on: dt.date,
    due: dt.date,
    today: dt.date,
    progress: int,
    last_report_on: dt.date | None,
    policy: EscalationPolicy,
) -> bool:
    """The early warning (序时进度预警) of an open node, before any card: lagging when

    - behind the time share (behind_time_share, by more than `policy.lag_points`), or
    - silent too long near its due date (silent_too_long: `policy.stale_days` without a
      report while due within `policy.stale_horizon_days`),

    and only up to its due date: once past it the yellow card speaks, not the warning.
    The caller passes open nodes only (a done node is never lagging) and their facts:

    - `start`: when the node's time starts, its planned start. A node has no start date of
      its own, so: the planned (due) date of the project's previous node (the next lower
      sequence number, archived nodes left out); for the first node the project's planned
      start date (Project.start_date, from which the templates' steps count); when the
      project has none, the day the node was created.
    - `created_on`: the day the node was created (local date);
    - `due`: its effective due date (the approved committed date, else the planned date);
    - `last_report_on`: the local date of its latest progress report, None if it has none.
    """
    if today > due:
        return False
    return behind_time_share(
        start=start, due=due, today=today, progress=progress, lag_points=policy.lag_points
    ) or silent_too_long(
        created_on=created_on,
        due=due,
        today=today,
        last_report_on=last_report_on,
        stale_days=policy.stale_days,
        horizon_days=policy.stale_horizon_days,
    )


DUE_SOON_DAYS = 3


def node_light(
    *,
    completed: bool,
    card_kind: str | None,
    pending_recommitment: bool,
    effective_due_date: dt.date,
    today: dt.date,
    lagging: bool = False,
) -> Light:
    """A node's status light, most telling first: done, red, awaiting approval, yellow,
    lagging (node_lagging), due within 3 days (or past due and not yet carded by the sweep),
    else on track."""
    if completed:
        return Light.DONE
    if card_kind == CardKind.RED:
        return Light.RED
    if pending_recommitment:
        return Light.AWAITING_APPROVAL
    if card_kind == CardKind.YELLOW:
        return Light.YELLOW
    if lagging:
        return Light.LAGGING
    if (effective_due_date - today).days <= DUE_SOON_DAYS:
        return Light.DUE_SOON
    return Light.ON_TRACK
