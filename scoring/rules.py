"""Pure decisions about points: which rule is in force on a day, scores and ranks."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Policy:
    """The rule in force from `effective_from`: points, the grace window and reminder days."""

    version_id: int | None
    effective_from: dt.date
    yellow_points: Decimal = Decimal("1.00")
    red_points: Decimal = Decimal("2.00")
    base_score: Decimal = Decimal("100.00")
    grace_workdays: int = 3
    reminder_days: tuple[int, ...] = (3, 1)


def policy_on(policies: Sequence[Policy], day: dt.date) -> Policy:
    """The policy in force on `day`: the latest whose effective date is not after it."""
    in_force = [p for p in policies if p.effective_from <= day]
    if not in_force:
        # Before the first rule: the first rule applies, rather than no rule at all.
        return min(policies, key=lambda p: p.effective_from)
    return max(in_force, key=lambda p: p.effective_from)


@dataclass(frozen=True)
class UnitScore:
    unit_id: int
    unit_name: str
    kind: str
    base: Decimal
    points: Decimal
    score: Decimal
    rank: int


def rank_scores(
    rows: Iterable[tuple[int, str, str, Decimal, Decimal]], group_of
) -> list[UnitScore]:
    """Scores = base + points; ranked within each group (1, 2, 2, 4: ties share a rank)."""
    scored = [(uid, name, kind, base, pts, base + pts) for uid, name, kind, base, pts in rows]
    result: list[UnitScore] = []
    for group in sorted({group_of(kind) for _, _, kind, *_ in scored}):
        members = sorted(
            (r for r in scored if group_of(r[2]) == group), key=lambda r: (-r[5], r[1])
        )
        previous, rank = None, 0
        for position, (uid, name, kind, base, pts, score) in enumerate(members, start=1):
            if score != previous:
                rank, previous = position, score
            result.append(UnitScore(uid, name, kind, base, pts, score, rank))
    return result
