"""The escalation rules of domain.md as a table: pure functions, no database."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from scoring.rules import UnitScore, rank_scores
from supervision import rules
from supervision.rules import CardDue, CardFact, NodeFacts, RecommitmentFact, policy_on
from supervision.rules import EscalationPolicy as Policy

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    """A local (Asia/Shanghai) instant from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


def official(day: dt.date) -> bool:
    return chinese_calendar.is_workday(day)


def yellow(issued: str, breached: str | None = None) -> CardFact:
    return CardFact("yellow", at(issued), at(breached) if breached else None)


def red(issued: str) -> CardFact:
    return CardFact("red", at(issued))


def rec(
    submitted: str, status: str, decided: str | None = None, new: str | None = None
) -> RecommitmentFact:
    return RecommitmentFact(
        at(submitted), status, at(decided) if decided else None, d(new) if new else None
    )


def evaluate(facts, as_of, is_workday=weekdays, grace=3):
    return rules.evaluate(facts, at(as_of), grace_workdays=grace, is_workday=is_workday)


@pytest.mark.parametrize(
    ("anchor", "workdays", "calendar", "expected"),
    [
        # domain.md: a card issued on Friday 2026-11-27 leaves until the end of Wednesday 12-02.
        ("2026-11-27", 3, official, "2026-12-02"),
        ("2026-11-30", 3, official, "2026-12-03"),
        # Spring Festival 2026: Saturday 02-14 is a make-up working day, 02-15..02-23 off.
        ("2026-02-12", 3, official, "2026-02-24"),
        # National Day 2026: 10-01..10-07 off, Saturday 10-10 a make-up working day.
        ("2026-09-30", 3, official, "2026-10-10"),
        # The same dates on a plain Monday–Friday calendar, for contrast.
        ("2026-02-12", 3, weekdays, "2026-02-17"),
        ("2026-11-27", 1, official, "2026-11-30"),
        ("2026-11-28", 3, official, "2026-12-02"),  # issued on a Saturday
    ],
)
def test_grace_deadline_counts_working_days_after_the_day(anchor, workdays, calendar, expected):
    assert rules.grace_deadline(d(anchor), workdays, calendar) == d(expected)


YELLOW_CASES = [
    # (facts, as_of, expected due, expected next check)
    pytest.param(
        NodeFacts(due_date=d("2026-11-20")),
        "2026-11-20 23:59",
        None,
        at("2026-11-21 00:00"),
        id="not-yet-breached",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-20")),
        "2026-11-21 00:00",
        CardDue("yellow", d("2026-11-20"), at("2026-11-21 00:00"), "due_date"),
        None,
        id="breached-at-midnight-after-the-due-date",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-20"), completed_at=at("2026-11-20 23:59")),
        "2026-12-31 00:00",
        None,
        None,
        id="completed-on-the-due-day",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-20"), completed_at=at("2026-11-21 00:00")),
        "2026-11-22 09:00",
        CardDue("yellow", d("2026-11-20"), at("2026-11-21 00:00"), "due_date"),
        None,
        id="completed-late-still-earns-its-card",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-20")),
        "2026-11-26 10:00",
        CardDue("yellow", d("2026-11-20"), at("2026-11-21 00:00"), "due_date"),
        None,
        id="after-an-outage-dated-at-the-true-breach",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-20"), revoked=frozenset({("yellow", d("2026-11-20"))})),
        "2026-12-31 00:00",
        None,
        None,
        id="revoked-yellow-is-not-issued-again-nor-followed-by-red",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-12-05"), revoked=frozenset({("yellow", d("2026-11-20"))})),
        "2026-12-06 00:00",
        CardDue("yellow", d("2026-12-05"), at("2026-12-06 00:00"), "due_date"),
        None,
        id="after-a-revoked-yellow-a-moved-due-date-earns-its-own-card",
    ),
]


@pytest.mark.parametrize(("facts", "as_of", "due", "next_check"), YELLOW_CASES)
def test_yellow(facts, as_of, due, next_check):
    result = evaluate(facts, as_of)
    assert result.due == due
    assert result.next_check_at == next_check


Y = yellow("2026-11-27 09:00")  # issued Friday 2026-11-27: the window ends with Wednesday 12-02
GRACE_BREACH = at("2026-12-03 00:00")
RED_CASES = [
    pytest.param(
        NodeFacts(due_date=d("2026-11-26"), yellow=Y),
        "2026-12-02 23:59",
        None,
        GRACE_BREACH,
        id="grace-window-still-open",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-26"), yellow=Y),
        "2026-12-03 00:00",
        CardDue("red", d("2026-12-02"), GRACE_BREACH, "grace"),
        None,
        id="no-recommitment-in-3-working-days",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-26"), yellow=Y),
        "2026-12-09 08:00",
        CardDue("red", d("2026-12-02"), GRACE_BREACH, "grace"),
        None,
        id="grace-red-after-outage-true-breach",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"), yellow=Y, recommitments=(rec("2026-12-02 23:59", "pending"),)
        ),
        "2026-12-20 00:00",
        None,
        None,
        id="pending-recommitment-stops-the-clock",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"), yellow=Y, recommitments=(rec("2026-12-03 00:00", "pending"),)
        ),
        "2026-12-03 08:00",
        CardDue("red", d("2026-12-02"), GRACE_BREACH, "grace"),
        None,
        id="recommitment-after-the-window-does-not-stop-it",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            yellow=Y,
            recommitments=(rec("2026-11-30 10:00", "rejected", "2026-12-01 15:00"),),
        ),
        "2026-12-04 23:59",
        None,
        at("2026-12-05 00:00"),
        id="rejection-restarts-the-window",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            yellow=Y,
            recommitments=(rec("2026-11-30 10:00", "rejected", "2026-12-01 15:00"),),
        ),
        "2026-12-05 00:00",
        CardDue("red", d("2026-12-04"), at("2026-12-05 00:00"), "grace"),
        None,
        id="rejection-window-expires",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            yellow=Y,
            recommitments=(
                rec("2026-11-30 10:00", "rejected", "2026-12-01 15:00"),
                rec("2026-12-02 10:00", "pending"),
            ),
        ),
        "2026-12-20 00:00",
        None,
        None,
        id="second-recommitment-after-rejection-stops-it-again",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            committed_due_date=d("2026-12-15"),
            yellow=Y,
            recommitments=(rec("2026-11-30 10:00", "approved", "2026-11-30 16:00", "2026-12-15"),),
        ),
        "2026-12-15 23:59",
        None,
        at("2026-12-16 00:00"),
        id="approved-date-not-yet-breached",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            committed_due_date=d("2026-12-15"),
            yellow=Y,
            recommitments=(rec("2026-11-30 10:00", "approved", "2026-11-30 16:00", "2026-12-15"),),
        ),
        "2026-12-16 00:00",
        CardDue("red", d("2026-12-15"), at("2026-12-16 00:00"), "committed"),
        None,
        id="approved-date-breached",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            committed_due_date=d("2026-12-15"),
            yellow=Y,
            completed_at=at("2026-12-15 18:00"),
            recommitments=(rec("2026-11-30 10:00", "approved", "2026-11-30 16:00", "2026-12-15"),),
        ),
        "2026-12-20 00:00",
        None,
        None,
        id="completed-before-the-committed-breach",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            committed_due_date=d("2026-12-15"),
            yellow=Y,
            completed_at=at("2026-12-17 18:00"),
            recommitments=(rec("2026-11-30 10:00", "approved", "2026-11-30 16:00", "2026-12-15"),),
        ),
        "2026-12-20 00:00",
        CardDue("red", d("2026-12-15"), at("2026-12-16 00:00"), "committed"),
        None,
        id="completed-after-the-committed-breach-still-red",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-26"), yellow=Y, completed_at=at("2026-12-02 12:00")),
        "2026-12-20 00:00",
        None,
        None,
        id="completed-inside-the-grace-window",
    ),
    pytest.param(
        NodeFacts(due_date=d("2026-11-26"), yellow=Y, red=red("2026-12-03 00:05")),
        "2026-12-20 00:00",
        None,
        None,
        id="one-red-card-only",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            committed_due_date=d("2026-12-25"),
            yellow=Y,
            recommitments=(rec("2026-12-04 10:00", "approved", "2026-12-04 16:00", "2026-12-25"),),
        ),
        "2026-12-04 17:00",
        CardDue("red", d("2026-12-02"), GRACE_BREACH, "grace"),
        None,
        id="late-recommitment-approved-does-not-undo-the-grace-breach",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"), yellow=Y, revoked=frozenset({("red", d("2026-12-02"))})
        ),
        "2026-12-20 00:00",
        None,
        None,
        id="revoked-grace-red-is-not-issued-again",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            committed_due_date=d("2026-12-15"),
            yellow=Y,
            revoked=frozenset({("red", d("2026-12-02"))}),
            recommitments=(rec("2026-12-04 10:00", "approved", "2026-12-04 16:00", "2026-12-15"),),
        ),
        "2026-12-16 00:00",
        CardDue("red", d("2026-12-15"), at("2026-12-16 00:00"), "committed"),
        None,
        id="after-a-revoked-red-the-approved-date-still-has-teeth",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            yellow=Y,
            revoked=frozenset({("red", d("2026-12-02"))}),
            recommitments=(rec("2026-12-04 10:00", "rejected", "2026-12-04 16:00"),),
        ),
        "2026-12-10 00:00",
        CardDue("red", d("2026-12-09"), at("2026-12-10 00:00"), "grace"),
        None,
        id="after-a-revoked-red-a-rejection-opens-a-new-window",
    ),
    pytest.param(
        NodeFacts(
            due_date=d("2026-11-26"),
            yellow=Y,
            recommitments=(rec("2026-12-03 00:00", "approved", "2026-12-03 00:00", "2026-12-02"),),
        ),
        "2026-12-03 00:00",
        CardDue("red", d("2026-12-02"), GRACE_BREACH, "committed"),
        None,
        id="a-tie-between-an-approved-date-and-the-window-names-the-approved-date",
    ),
]


@pytest.mark.parametrize(("facts", "as_of", "due", "next_check"), RED_CASES)
def test_red(facts, as_of, due, next_check):
    result = evaluate(facts, as_of, is_workday=official)
    assert result.due == due
    assert result.next_check_at == next_check


def test_red_grace_across_spring_festival_and_make_up_saturday():
    # given: yellow issued Thursday 2026-02-12; Saturday 02-14 is a working day, 02-15..23 off
    facts = NodeFacts(due_date=d("2026-02-11"), yellow=yellow("2026-02-12 00:05"))
    # then: Fri 13, Sat 14, Tue 24 are the three working days
    assert evaluate(facts, "2026-02-24 23:59", official).due is None
    assert evaluate(facts, "2026-02-25 00:00", official).due == CardDue(
        "red", d("2026-02-24"), at("2026-02-25 00:00"), "grace"
    )


def test_grace_window_uses_the_issue_day_not_the_breach_day():
    # given: breach 11-21, but the sweep was down and issued the yellow card on 11-27
    facts = NodeFacts(due_date=d("2026-11-20"), yellow=yellow("2026-11-27 10:00"))
    # then: the unit has its three working days from the day it learned of the card
    assert evaluate(facts, "2026-12-02 12:00", official).due is None
    assert evaluate(facts, "2026-12-03 00:00", official).due.breached_at == at("2026-12-03 00:00")


# A yellow card opens a cycle; only what happens inside it counts toward its red card.
# The story of both cases: a node due 2026-11-20 gets a yellow card at 11-21 00:05; the unit
# recommits on Monday 11-23; on 11-24 the office revokes the card and moves the due date to
# 12-10; a new yellow card comes on Friday 12-11 at 00:05 (breach 12-11 00:00). With no
# recommitment in the new cycle, Mon 14, Tue 15 and Wed 16 are its working days.
OLD_CYCLE_REVOKED = frozenset({("yellow", d("2026-11-20"))})
NEW_YELLOW = yellow("2026-12-11 00:05", breached="2026-12-11 00:00")
NEW_GRACE_RED = CardDue("red", d("2026-12-16"), at("2026-12-17 00:00"), "grace")
LAPSED_OLD = rec("2026-11-23 10:00", "lapsed", "2026-11-24 09:00", "2026-12-05")
APPROVED_OLD = rec("2026-11-23 10:00", "approved", "2026-11-23 16:00", "2026-12-05")


def cycle(*recs: RecommitmentFact, committed: str | None = None) -> NodeFacts:
    """The node after the new yellow card, with the given recommitments."""
    return NodeFacts(
        due_date=d("2026-12-10"),
        committed_due_date=d(committed) if committed else None,
        yellow=NEW_YELLOW,
        recommitments=recs,
        revoked=OLD_CYCLE_REVOKED,
    )


CYCLE_CASES = [
    # Case 1: a recommitment of the revoked cycle (lapsed by the revocation).
    pytest.param(
        cycle(LAPSED_OLD),
        "2026-12-11 00:05",
        None,
        at("2026-12-17 00:00"),
        id="old-lapsed-recommitment-new-window-opens",
    ),
    pytest.param(
        cycle(LAPSED_OLD),
        "2026-12-16 23:59",
        None,
        at("2026-12-17 00:00"),
        id="old-lapsed-recommitment-window-still-open",
    ),
    pytest.param(
        cycle(LAPSED_OLD),
        "2026-12-17 00:00",
        NEW_GRACE_RED,
        None,
        id="old-lapsed-recommitment-does-not-stop-the-new-window",
    ),
    # Case 2: a date approved in the revoked cycle (12-05, breached 12-06 00:00).
    pytest.param(
        cycle(APPROVED_OLD),
        "2026-12-11 00:05",
        None,
        at("2026-12-17 00:00"),
        id="old-approved-date-owes-no-red-at-the-new-yellow",
    ),
    pytest.param(
        cycle(APPROVED_OLD, committed="2026-12-05"),
        "2026-12-11 00:05",
        None,
        at("2026-12-17 00:00"),
        id="old-approved-date-left-on-the-node-does-not-rule",
    ),
    pytest.param(
        cycle(committed="2026-12-05"),
        "2026-12-11 00:05",
        None,
        at("2026-12-17 00:00"),
        id="committed-date-without-an-approval-in-the-cycle-does-not-rule",
    ),
    pytest.param(
        cycle(APPROVED_OLD, committed="2026-12-05"),
        "2026-12-16 23:59",
        None,
        at("2026-12-17 00:00"),
        id="old-approved-date-window-still-open",
    ),
    pytest.param(
        cycle(APPROVED_OLD, committed="2026-12-05"),
        "2026-12-17 00:00",
        NEW_GRACE_RED,
        None,
        id="old-approved-date-the-new-cycle-owes-its-grace-red",
    ),
    # What the new cycle's own recommitments do.
    pytest.param(
        cycle(APPROVED_OLD, rec("2026-12-14 10:00", "pending")),
        "2026-12-31 00:00",
        None,
        None,
        id="new-pending-recommitment-stops-the-new-clock",
    ),
    pytest.param(
        cycle(
            APPROVED_OLD,
            rec("2026-12-14 10:00", "approved", "2026-12-14 16:00", "2026-12-20"),
            committed="2026-12-20",
        ),
        "2026-12-20 23:59",
        None,
        at("2026-12-21 00:00"),
        id="new-approved-date-not-yet-breached",
    ),
    pytest.param(
        cycle(
            APPROVED_OLD,
            rec("2026-12-14 10:00", "approved", "2026-12-14 16:00", "2026-12-20"),
            committed="2026-12-20",
        ),
        "2026-12-21 00:00",
        CardDue("red", d("2026-12-20"), at("2026-12-21 00:00"), "committed"),
        None,
        id="new-approved-date-breached",
    ),
    pytest.param(
        cycle(
            rec("2026-12-14 10:00", "approved", "2026-12-14 16:00", "2026-12-20"),
            rec("2026-12-18 10:00", "approved", "2026-12-18 16:00", "2026-12-28"),
            committed="2026-12-28",
        ),
        "2026-12-21 00:00",
        None,
        at("2026-12-29 00:00"),
        id="the-latest-approval-of-the-cycle-rules",
    ),
    pytest.param(
        cycle(rec("2026-12-11 00:05", "pending")),
        "2026-12-31 00:00",
        None,
        None,
        id="recommitment-at-the-issue-instant-belongs-to-the-cycle",
    ),
    pytest.param(
        cycle(rec("2026-12-11 00:04", "pending")),
        "2026-12-17 00:00",
        NEW_GRACE_RED,
        None,
        id="recommitment-a-minute-before-the-issue-does-not",
    ),
    # A red card is never dated before its yellow card, even on data the services refuse.
    pytest.param(
        cycle(rec("2026-12-11 09:00", "approved", "2026-12-11 10:00", "2026-12-05")),
        "2026-12-11 10:00",
        CardDue("red", d("2026-12-05"), at("2026-12-11 00:00"), "committed"),
        None,
        id="red-not-dated-before-its-yellow",
    ),
]


# An approved date breached before a later approval replaced it still earns the red card,
# dated at its own breach: cards follow from dates, not from when the sweep looked.
APPROVED_TWICE = (
    rec("2026-12-11 09:00", "approved", "2026-12-11 10:00", "2026-12-20"),
    rec("2026-12-18 09:00", "approved", "2026-12-21 08:00", "2026-12-28"),
)
REPLACED_IN_TIME = (
    rec("2026-12-11 09:00", "approved", "2026-12-11 10:00", "2026-12-20"),
    rec("2026-12-18 09:00", "approved", "2026-12-20 23:59", "2026-12-28"),
)
SUPERSEDED_CASES = [
    pytest.param(
        cycle(*APPROVED_TWICE),
        "2026-12-21 08:05",
        CardDue("red", d("2026-12-20"), at("2026-12-21 00:00"), "committed"),
        None,
        id="approval-after-the-breach-does-not-cancel-the-red",
    ),
    pytest.param(
        cycle(*REPLACED_IN_TIME),
        "2026-12-21 08:05",
        None,
        at("2026-12-29 00:00"),
        id="approval-before-the-breach-replaces-the-date",
    ),
    pytest.param(
        cycle(*REPLACED_IN_TIME),
        "2026-12-29 00:00",
        CardDue("red", d("2026-12-28"), at("2026-12-29 00:00"), "committed"),
        None,
        id="the-replacing-date-rules-after-it",
    ),
]


@pytest.mark.parametrize(("facts", "as_of", "due", "next_check"), SUPERSEDED_CASES)
def test_an_approved_date_breached_before_it_was_replaced_still_earns_the_red(
    facts, as_of, due, next_check
):
    result = evaluate(facts, as_of, is_workday=official)
    assert result.due == due
    assert result.next_check_at == next_check


@pytest.mark.parametrize(("facts", "as_of", "due", "next_check"), CYCLE_CASES)
def test_only_the_yellow_cards_cycle_counts_toward_its_red(facts, as_of, due, next_check):
    result = evaluate(facts, as_of, is_workday=official)
    assert result.due == due
    assert result.next_check_at == next_check


@pytest.mark.parametrize(
    ("due", "today", "completed", "expected"),
    [
        ("2026-12-10", "2026-12-06", False, None),
        ("2026-12-10", "2026-12-07", False, 3),
        ("2026-12-10", "2026-12-08", False, 3),
        ("2026-12-10", "2026-12-09", False, 1),
        ("2026-12-10", "2026-12-10", False, 1),
        ("2026-12-10", "2026-12-11", False, None),
        ("2026-12-10", "2026-12-09", True, None),
    ],
)
def test_reminder_due(due, today, completed, expected):
    assert (
        rules.reminder_due(
            due_date=d(due), today=d(today), completed=completed, reminder_days=(3, 1)
        )
        == expected
    )


def test_policy_on_picks_the_rule_in_force_that_day():
    old = Policy(version_id=1, effective_from=d("2021-01-01"), yellow_points=Decimal("1"))
    new = Policy(version_id=2, effective_from=d("2027-01-01"), yellow_points=Decimal("1.5"))
    assert policy_on([old, new], d("2026-12-31")) is old
    assert policy_on([old, new], d("2027-01-01")) is new
    assert policy_on([old, new], d("2020-06-01")) is old


def test_rank_scores_within_groups_ties_share_a_rank():
    group = {"department": "d", "township": "l", "park": "l"}.get
    rows = [
        (1, "县住建局", "department", Decimal("100"), Decimal("-3")),
        (2, "县财政局", "department", Decimal("100"), Decimal("0")),
        (3, "县经信局", "department", Decimal("100"), Decimal("-3")),
        (4, "上派镇", "township", Decimal("100"), Decimal("-1")),
        (5, "桃花工业园", "park", Decimal("100"), Decimal("0")),
        (6, "县自然资源局", "department", Decimal("100"), Decimal("-4")),
    ]
    result = {s.unit_id: s for s in rank_scores(rows, group)}
    assert [(result[i].score, result[i].rank) for i in (2, 1, 3, 6)] == [
        (Decimal("100"), 1),
        (Decimal("97"), 2),
        (Decimal("97"), 2),
        (Decimal("96"), 4),
    ]
    assert (result[5].rank, result[4].rank) == (1, 2)
    assert result[4] == UnitScore(
        4, "上派镇", "township", Decimal("100"), Decimal("-1"), Decimal("99"), 2
    )
