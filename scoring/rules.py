"""Pure decisions about points: scores and ranks."""

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal


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


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period before [start, end], as long: the previous calendar year for a year, the
    previous month(s) for whole months, otherwise the same number of days just before."""
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        first = dt.date(index // 12, index % 12 + 1, 1)
        return first, start - dt.timedelta(days=1)
    length = end - start + dt.timedelta(days=1)
    return start - length, start - dt.timedelta(days=1)


def competition_ranks(rows: Iterable[tuple[Hashable, str, Decimal, str]]) -> dict[Hashable, int]:
    """Ranks of (key, group, score, name) rows within their group, by score then name; ties
    share a rank and the next rank skips (1, 1, 3)."""
    by_group: dict[str, list[tuple[Hashable, Decimal, str]]] = {}
    for key, group, score, name in rows:
        by_group.setdefault(group, []).append((key, score, name))
    ranks: dict[Hashable, int] = {}
    for members in by_group.values():
        members.sort(key=lambda r: (-r[1], r[2]))
        previous, rank = None, 0
        for position, (key, score, _name) in enumerate(members, start=1):
            if score != previous:
                rank, previous = position, score
            ranks[key] = rank
    return ranks


def movement(previous_rank: int | None, rank: int) -> int | None:
    """Places gained since the previous period (positive up, negative down); None when new."""
    return None if previous_rank is None else previous_rank - rank
