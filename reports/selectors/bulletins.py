"""Reads for bulletins (通报): the figures of a period, worked out county-wide, and the
bulletins a person may read.

The figures are plain JSON (dates as ISO text, points as text with two decimals) under a
schema version, because a bulletin keeps them as they were when it was generated: the
pages and the API read the stored figures, never the live data.

The ranking is the rankings' own (supervision.rankings.ranking_with_cards), so a bulletin
shows what the rankings page showed for its period on the day it was generated.

Schemas: 1 kept each unit's base, points, score and rank; 2 keeps the ranking row as the
rankings page shows it (deductions, reversals, bonuses, adjustments, card counts, previous
rank and movement) and the unit's id. Published bulletins keep the schema they were
generated with, and both render.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from core import clock
from organization.permissions import Action, may
from projects.models import Node
from supervision.choices import CardKind, ItemStatus, Light
from supervision.models import Card, SupervisionItem
from supervision.rankings import ranking_with_cards
from supervision.selectors import nodes_with_light

from ..choices import BulletinStatus
from ..models import Bulletin

FIGURES_SCHEMA = 2
CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A period of local calendar days as instants: [start 00:00, the day after end 00:00)."""
    return clock.start_of_day(start), clock.end_of_day_instant(end)


def _cards(since: dt.datetime, until: dt.datetime) -> dict:
    """The cards dated in the period (by their breach instant, the card's own date), each
    with whether it has been revoked, and their counts by unit."""
    cards = list(
        Card.objects.filter(breached_at__gte=since, breached_at__lt=until)
        .select_related("node__project", "unit")
        .order_by("breached_at", "unit__name", "node__project__code", "node__seq", "pk")
    )
    by_unit: dict[int, dict] = {}
    rows = []
    for card in cards:
        revoked = card.revoked_at is not None
        counts = by_unit.setdefault(
            card.unit_id,
            {
                "unit": card.unit.name,
                "unit_kind": card.unit.kind,
                "yellow": 0,
                "red": 0,
                "revoked": 0,
            },
        )
        counts[card.kind] += 1
        counts["revoked"] += revoked
        rows.append(
            {
                "kind": card.kind,
                "unit": card.unit.name,
                "project": card.node.project.code,
                "project_name": card.node.project.name,
                "node": card.node.name,
                "deadline": card.deadline.isoformat(),
                "carded_on": clock.local_date(card.breached_at).isoformat(),
                "revoked": revoked,
                "revoke_reason": card.revoke_reason,
            }
        )
    units = sorted(
        by_unit.values(), key=lambda u: (-(u["red"] * 2 + u["yellow"]), -u["red"], u["unit"])
    )
    total = {
        "yellow": sum(u["yellow"] for u in units),
        "red": sum(u["red"] for u in units),
        "revoked": sum(u["revoked"] for u in units),
    }
    return {"by_unit": units, "total": total, "rows": rows}


def _lagging(today: dt.date) -> list[dict]:
    """The open nodes whose light is 进度滞后 on `today` (nodes_with_light decides)."""
    nodes = (
        nodes_with_light(
            Node.objects.filter(archived_at__isnull=True, project__archived_at__isnull=True),
            today=today,
        )
        .filter(light=Light.LAGGING.value)
        .select_related("project", "unit")
        .order_by("project__code", "seq", "pk")
    )
    return [
        {
            "project": node.project.code,
            "project_name": node.project.name,
            "node": node.name,
            "unit": node.unit.name,
            "progress": node.progress,
            "due_date": node.effective_due_date.isoformat(),
        }
        for node in nodes
    ]


def _items(start: dt.date, end: dt.date, since: dt.datetime, until: dt.datetime) -> dict:
    """The supervision items closed in the period, and those still open when it ended (opened
    before its end and not closed by then), each with the days it has been open."""
    items = list(
        SupervisionItem.objects.filter(
            Q(closed_at__gte=since, closed_at__lt=until)
            | Q(opened_at__lt=until) & (Q(closed_at__isnull=True) | Q(closed_at__gte=until))
        )
        .select_related("node__project", "unit")
        .order_by("opened_at", "pk")
    )
    closed, still_open = [], []
    for item in items:
        opened_on = clock.local_date(item.opened_at)
        row = {
            "project": item.node.project.code,
            "project_name": item.node.project.name,
            "node": item.node.name,
            "unit": item.unit.name,
            "opened_on": opened_on.isoformat(),
        }
        if item.status == ItemStatus.CLOSED and since <= item.closed_at < until:
            closed_on = clock.local_date(item.closed_at)
            row |= {"closed_on": closed_on.isoformat(), "days_open": (closed_on - opened_on).days}
            closed.append(row)
        else:
            deadline = item.supervised_deadline
            row |= {
                "supervised_deadline": deadline.isoformat() if deadline else None,
                "days_open": (end - opened_on).days,
            }
            still_open.append(row)
    return {"closed": closed, "open": still_open}


def _money_or_none(value: Decimal | None) -> str | None:
    return None if value is None else _money(value)


def _ranking(start: dt.date, end: dt.date) -> list[dict]:
    """The period's ranking as the rankings page shows it (departments, then townships and
    parks; by rank, then name), each row with the unit's cards breached in the period."""
    return [
        {
            "unit_id": r.row.unit_id,
            "unit": r.row.unit.name,
            "unit_kind": r.row.kind,
            "group": r.row.group,
            "base": _money(r.row.base),
            "deductions": _money(r.row.deductions),
            "reversals": _money(r.row.reversals),
            "bonuses": _money(r.row.bonuses),
            "adjustments": _money(r.row.adjustments),
            "points": _money(r.row.points),
            "score": _money(r.row.score),
            "rank": r.row.rank,
            "previous_score": _money_or_none(r.row.previous_score),
            "previous_rank": r.row.previous_rank,
            "movement": r.row.movement,
            "movement_text": r.row.movement_text,
            "cards": {"yellow": r.cards.yellow, "red": r.cards.red, "revoked": r.cards.revoked},
        }
        for r in ranking_with_cards(start=start, end=end)
    ]


def bulletin_figures(*, period_start: dt.date, period_end: dt.date, as_of: dt.datetime) -> dict:
    """The figures of a bulletin for a period, county-wide, as JSON: the cards dated in it by
    unit, the nodes lagging on the day of `as_of`, the supervision items closed in it and
    those open at its end, and the period's ranking with each unit's cards (six queries)."""
    since, until = period_bounds(period_start, period_end)
    return {
        "schema": FIGURES_SCHEMA,
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        "as_of": as_of.astimezone(clock.local_tz()).isoformat(),
        "cards": _cards(since, until),
        "lagging": _lagging(clock.local_date(as_of)),
        "items": _items(period_start, period_end, since, until),
        "scores": _ranking(period_start, period_end),
    }


def bulletin_list(*, user) -> QuerySet[Bulletin]:
    """The bulletins a person reads: the published ones; the office also sees the drafts."""
    bulletins = Bulletin.objects.select_related("generated_by", "published_by")
    if may(user, Action.SUPERVISE):
        return bulletins
    return bulletins.filter(status=BulletinStatus.PUBLISHED)


def bulletin_published_list() -> QuerySet[Bulletin]:
    """The published bulletins, newest period first (what the API lists)."""
    return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).order_by(
        "-period_end", "-period_start", "-pk"
    )


def bulletin_for_page(*, user, bulletin_id: int) -> Bulletin:
    """One bulletin the person may read; a draft is not found for anyone but the office."""
    bulletin = bulletin_list(user=user).filter(pk=bulletin_id).first()
    if bulletin is None:
        raise Http404
    return bulletin


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before the one `today` is in: (its first day, its last day)."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _points(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


POINT_FIELDS = ("base", "deductions", "bonuses", "adjustments", "points", "score")


def _score_row(row: dict) -> dict:
    """A stored ranking row with its points as numbers (of the fields its schema has)."""
    return row | {key: _points(row[key]) for key in POINT_FIELDS if key in row}


def figures_for_display(figures: dict) -> dict:
    """The stored figures with their dates as dates, for the templates (schema 1 or 2: the
    ranking's rows are passed on as stored, and the template shows what its schema has)."""
    cards = figures["cards"]
    scores = figures["scores"]
    items = figures["items"]
    return {
        "period_start": _date(figures["period"]["start"]),
        "period_end": _date(figures["period"]["end"]),
        "as_of": dt.datetime.fromisoformat(figures["as_of"]),
        "cards": {
            "by_unit": cards["by_unit"],
            "total": cards["total"],
            "rows": [
                row | {"deadline": _date(row["deadline"]), "carded_on": _date(row["carded_on"])}
                for row in cards["rows"]
            ],
        },
        "lagging": [row | {"due_date": _date(row["due_date"])} for row in figures["lagging"]],
        "items": {
            "closed": [
                row | {"opened_on": _date(row["opened_on"]), "closed_on": _date(row["closed_on"])}
                for row in items["closed"]
            ],
            "open": [
                row
                | {
                    "opened_on": _date(row["opened_on"]),
                    "supervised_deadline": _date(row["supervised_deadline"]),
                }
                for row in items["open"]
            ],
        },
        "schema": figures["schema"],
        "scores": {
            "base": _points(scores[0]["base"]) if scores else None,
            "departments": [_score_row(s) for s in scores if s["group"] == "department"],
            "localities": [_score_row(s) for s in scores if s["group"] != "department"],
        },
        "yellow": CardKind.YELLOW.value,
    }
