"""Bulletins: the published ones, for every signed-in user."""

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from core.api.pagination import ListParams, page_of, paginate
from core.api.schemas import READ_ERRORS, Instant

from ..selectors.bulletins import bulletin_published_list

router = Router(tags=["统计与通报"])


class BulletinOut(Schema):
    id: int
    year: int
    serial: int
    title: str
    period_start: dt.date
    period_end: dt.date
    generated_at: Instant
    published_at: Instant


class BulletinDetailOut(BulletinOut):
    figures: dict[str, Any]


@router.get("bulletins/", response={200: page_of(BulletinOut), **READ_ERRORS})
def bulletins_list(request, filters: Query[ListParams]):
    """The published bulletins (通报), newest period first: their number within the year
    (第N期), title and period. Drafts are the office's and are not listed."""
    return paginate(bulletin_published_list().defer("figures"), filters)


@router.get("bulletins/{int:bulletin_id}/", response={200: BulletinDetailOut, **READ_ERRORS})
def bulletin_detail(request, bulletin_id: int):
    """A published bulletin with its figures as they were when it was generated: cards by
    unit and each card, lagging nodes, supervision items closed in the period and open at
    its end, and the ranking. `figures.schema` 2 gives the ranking as the rankings do
    (unit_id, deductions, reversals, bonuses, adjustments, score, rank, previous_rank,
    movement and the unit's cards); bulletins generated earlier keep schema 1 (base, points,
    score and rank). A draft answers 404."""
    return get_object_or_404(bulletin_published_list(), pk=bulletin_id)
