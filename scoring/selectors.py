"""Reads about scores: each active unit's points in an assessment year, ranked with its peers."""

import datetime as dt
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from core import clock
from organization.choices import UnitKind
from organization.models import Unit

from .models import RuleVersion
from .rules import Policy, UnitScore, policy_on, rank_scores


def policies_load() -> list[Policy]:
    """Every rule version, oldest first (a small table)."""
    return [
        Policy(
            version_id=v.pk,
            effective_from=v.effective_from,
            yellow_points=v.yellow_points,
            red_points=v.red_points,
            base_score=v.base_score,
            grace_workdays=v.grace_workdays,
            # The admin validates the list; a hand-edited row must still not stop the sweep.
            reminder_days=tuple(
                sorted(
                    {
                        d
                        for d in (v.reminder_days if isinstance(v.reminder_days, list) else [])
                        if isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 60
                    },
                    reverse=True,
                )
            ),
        )
        for v in RuleVersion.objects.order_by("effective_from")
    ]


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar year as instants: [Jan 1 00:00, next Jan 1 00:00) Asia/Shanghai."""
    return clock.start_of_day(dt.date(year, 1, 1)), clock.start_of_day(dt.date(year + 1, 1, 1))


def unit_scores(year: int) -> list[UnitScore]:
    """Every active unit's score for a calendar year: the base in force on Jan 1 plus the
    points entries dated in the year, ranked within its kind group (one aggregate query)."""
    base = policy_on(policies_load(), dt.date(year, 1, 1)).base_score
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
