"""Pure decisions about points: scores and ranks."""

from collections.abc import Iterable
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
