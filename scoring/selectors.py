"""Reads about scores: each active unit's points in an assessment year, ranked with its peers."""

import datetime as dt
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from core import clock
from core.versioning import in_force
from organization.choices import UnitKind
from organization.models import Unit

from .models import RuleVersion
from .rules import UnitScore, rank_scores


def base_score_on(day: dt.date) -> Decimal:
    """The base score of the rule in force on `day` (the default when no rule was entered)."""
    versions = list(RuleVersion.objects.only("effective_from", "base_score"))
    if not versions:
        return RuleVersion._meta.get_field("base_score").default
    return in_force(versions, day).base_score


def yellow_points_on(day: dt.date) -> Decimal:
    """The yellow card's deduction under the rule in force on `day` (the default when none)."""
    versions = list(RuleVersion.objects.only("effective_from", "yellow_points"))
    if not versions:
        return RuleVersion._meta.get_field("yellow_points").default
    return in_force(versions, day).yellow_points


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar year as instants: [Jan 1 00:00, next Jan 1 00:00) Asia/Shanghai."""
    return clock.start_of_day(dt.date(year, 1, 1)), clock.start_of_day(dt.date(year + 1, 1, 1))


def unit_scores(year: int) -> list[UnitScore]:
    """Every active unit's score for a calendar year: the base in force on Jan 1 plus the
    points entries dated in the year, ranked within its kind group (one aggregate query)."""
    base = Decimal(base_score_on(dt.date(year, 1, 1)))
    start, end = year_bounds(year)
    rows = (
        Unit.objects.filter(is_active=True)
        .annotate(
            total=Coalesce(
                Sum(
                    "points_entries__points",
                    filter=Q(
                        points_entries__occurred_at__gte=start,
                        points_entries__occurred_at__lt=end,
                    ),
                ),
                Value(Decimal(0)),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            )
        )
        .values_list("pk", "name", "kind", "total")
    )
    cent = Decimal("0.01")
    return rank_scores(
        (
            (pk, name, kind, base.quantize(cent), Decimal(total).quantize(cent))
            for pk, name, kind, total in rows
        ),
        UnitKind.ranking_group,
    )
