"""What the rankings show of cards: each unit's cards in a period, and the card behind an entry.

The points ledger knows nothing of cards (scoring may not import supervision); the rankings
pages, the exports and the bulletins ask here for the cards beside scoring's ranking.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from core import clock
from projects.models import WorkStream
from scoring.selectors import RankingRow, unit_ranking

from .choices import CardKind
from .models import Card


@dataclass(frozen=True)
class CardCounts:
    """A unit's cards breached in a period: yellow and red in force, and those revoked."""

    yellow: int = 0
    red: int = 0
    revoked: int = 0


@dataclass(frozen=True)
class RankedUnit:
    """A ranking row with the unit's cards in the period beside it."""

    row: RankingRow
    cards: CardCounts


def unit_card_counts(
    *,
    unit_ids,
    start: dt.date,
    end: dt.date,
    work_stream: WorkStream | int | None = None,
) -> dict[int, CardCounts]:
    """Each unit's cards dated (breached) in [start, end], by kind, in one query; in a work
    stream, only the cards of its projects' nodes. Units without cards are absent."""
    cards = Card.objects.filter(
        unit_id__in=list(unit_ids),
        breached_at__gte=clock.start_of_day(start),
        breached_at__lt=clock.start_of_day(end + dt.timedelta(days=1)),
    )
    stream_id = work_stream.pk if isinstance(work_stream, WorkStream) else work_stream
    if stream_id is not None:
        cards = cards.filter(node__project__work_stream_id=stream_id)
    in_force = Q(revoked_at__isnull=True)
    rows = (
        cards.order_by()
        .values("unit_id")
        .annotate(
            yellow=Count("pk", filter=in_force & Q(kind=CardKind.YELLOW)),
            red=Count("pk", filter=in_force & Q(kind=CardKind.RED)),
            revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
        )
    )
    return {
        r["unit_id"]: CardCounts(yellow=r["yellow"], red=r["red"], revoked=r["revoked"])
        for r in rows
    }


def ranking_with_cards(
    *,
    start: dt.date,
    end: dt.date,
    work_stream: WorkStream | int | None = None,
    kind: str | None = None,
) -> list[RankedUnit]:
    """scoring's unit_ranking with each unit's card counts: three queries, whatever the size."""
    rows = unit_ranking(start=start, end=end, work_stream=work_stream, kind=kind)
    counts = unit_card_counts(
        unit_ids=[r.unit_id for r in rows], start=start, end=end, work_stream=work_stream
    )
    return [RankedUnit(row=r, cards=counts.get(r.unit_id, CardCounts())) for r in rows]


def cards_behind_entries(entry_ids) -> dict[int, Card]:
    """The card each points entry was made for (its deduction or its reversal), by entry id,
    with the node, its project and who revoked it (one query)."""
    ids = list(entry_ids)
    cards = Card.objects.filter(Q(deduction_id__in=ids) | Q(reversal_id__in=ids)).select_related(
        "node__project", "revoked_by"
    )
    behind: dict[int, Card] = {}
    for card in cards:
        behind[card.deduction_id] = card
        if card.reversal_id is not None:
            behind[card.reversal_id] = card
    return behind
