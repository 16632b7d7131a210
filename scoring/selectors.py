"""Reads about scores: each active unit's points in a period, ranked with its peers."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    DecimalField,
    Exists,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from core import clock
from core.versioning import in_force
from organization.choices import UnitKind
from organization.models import Unit
from projects.models import Node, WorkStream

from .choices import EntryKind, RankingGroup
from .models import PointsEntry, RuleVersion
from .rules import UnitScore, competition_ranks, movement, previous_period, rank_scores


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
            # The year in the join's ON clause: only the year's entries are read.
            year_entries=FilteredRelation(
                "points_entries",
                condition=Q(
                    points_entries__occurred_at__gte=start, points_entries__occurred_at__lt=end
                ),
            )
        )
        .annotate(
            total=Coalesce(Sum("year_entries__points"), Value(Decimal(0)), output_field=_MONEY)
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


# -- rankings ------------------------------------------------------------------------------

YEAR_MIN, YEAR_MAX = 2000, 2100
PERIOD_DAYS_MAX = 366 * 5  # a ranking spans at most five years


def ranking_period(
    *, year: int | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The period a ranking covers: a calendar year, or the days from `start` to `end`
    (both included); the current year when nothing is given. ValidationError in Chinese."""
    if year is not None and (start is not None or end is not None):
        raise ValidationError({"year": [_("年份与起止日期只能选一种。")]})
    if start is None and end is None:
        year = clock.today().year if year is None else year
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise ValidationError(
                {"year": [_("年份须在%(min)s到%(max)s之间。") % {"min": YEAR_MIN, "max": YEAR_MAX}]}
            )
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if start is None:
        raise ValidationError({"start": [_("请同时填写开始日期。")]})
    if end is None:
        raise ValidationError({"end": [_("请同时填写结束日期。")]})
    if start > end:
        raise ValidationError({"end": [_("结束日期不能早于开始日期。")]})
    if start.year < YEAR_MIN or end.year > YEAR_MAX:
        raise ValidationError(
            {
                "start": [
                    _("日期须在%(min)s年到%(max)s年之间。") % {"min": YEAR_MIN, "max": YEAR_MAX}
                ]
            }
        )
    if (end - start).days + 1 > PERIOD_DAYS_MAX:
        raise ValidationError({"end": [_("统计期间不能超过5年。")]})
    return start, end


@dataclass(frozen=True)
class RankingRow:
    """A unit's line in a ranking: its score in the period, what makes it, and its move."""

    unit: Unit
    kind: str  # the unit's kind (UnitKind)
    group: str  # the kind it is ranked within (RankingGroup)
    base: Decimal  # 0 in a work stream's ranking
    deductions: Decimal  # card deductions, net of the revoked cards' reversals (<= 0)
    reversals: Decimal  # the revoked cards' points given back (>= 0)
    bonuses: Decimal
    adjustments: Decimal
    points: Decimal  # deductions + bonuses + adjustments
    score: Decimal
    rank: int
    previous_score: Decimal | None
    previous_rank: int | None  # None: the unit did not exist in the previous period
    movement: int | None  # previous_rank - rank: positive up, negative down, None new

    @property
    def unit_id(self) -> int:
        return self.unit.pk

    @property
    def movement_text(self) -> str:
        """↑2, ↓1, 新 or — (as on the page and in the exports)."""
        if self.movement is None:
            return _("新")
        if self.movement > 0:
            return f"↑{self.movement}"
        if self.movement < 0:
            return f"↓{-self.movement}"
        return "—"


_CENT = Decimal("0.01")
_MONEY = DecimalField(max_digits=12, decimal_places=2)


def _stream_id(work_stream: WorkStream | int | None) -> int | None:
    return work_stream.pk if isinstance(work_stream, WorkStream) else work_stream


def _period_q(start: dt.date, end: dt.date, prefix: str = "") -> Q:
    """Entries dated in [start 00:00, the day after end 00:00) local time."""
    return Q(
        **{
            f"{prefix}occurred_at__gte": clock.start_of_day(start),
            f"{prefix}occurred_at__lt": clock.start_of_day(end + dt.timedelta(days=1)),
        }
    )


def _period_entries(start: dt.date, end: dt.date) -> FilteredRelation:
    """A unit's points entries dated in [start, end], joined with the period in the join's ON
    clause: PostgreSQL reads only the period's entries (the occurred_at indexes), instead of
    every entry of every year joined in and sorted out by the SUM's FILTER."""
    return FilteredRelation("points_entries", condition=_period_q(start, end, "points_entries__"))


def _sum(condition: Q):
    return Coalesce(
        Sum("period_entries__points", filter=condition), Value(Decimal(0)), output_field=_MONEY
    )


def _entries_q(start: dt.date, end: dt.date, stream_id: int | None, kinds=None) -> Q:
    condition = _period_q(start, end, "period_entries__")
    if stream_id is not None:
        condition &= Q(period_entries__node__project__work_stream_id=stream_id)
    if kinds:
        condition &= Q(period_entries__kind__in=kinds)
    return condition


def _base_scores(days: tuple[dt.date, ...]) -> dict[dt.date, Decimal]:
    """The base score in force on each of `days` (one query)."""
    versions = list(RuleVersion.objects.only("effective_from", "base_score"))
    default = RuleVersion._meta.get_field("base_score").default
    return {
        day: Decimal(in_force(versions, day).base_score if versions else default) for day in days
    }


def ranked_units(
    *, work_stream: WorkStream | int | None = None, kind: str | None = None
) -> QuerySet:
    """The units a ranking lists: the active ones (of the ranking kind `kind`); in a work
    stream's ranking, those answering for one of its nodes or holding one of its entries."""
    units = Unit.objects.filter(is_active=True)
    if kind is not None:
        kinds = [k for k in UnitKind.values if UnitKind.ranking_group(k) == kind]
        units = units.filter(kind__in=kinds)
    stream_id = _stream_id(work_stream)
    if stream_id is not None:
        units = units.filter(
            Q(Exists(Node.objects.filter(unit=OuterRef("pk"), project__work_stream_id=stream_id)))
            | Q(
                Exists(
                    PointsEntry.objects.filter(
                        unit=OuterRef("pk"), node__project__work_stream_id=stream_id
                    )
                )
            )
        )
    return units


def unit_ranking(
    *,
    start: dt.date,
    end: dt.date,
    work_stream: WorkStream | int | None = None,
    kind: str | None = None,
) -> list[RankingRow]:
    """Each unit's score for [start, end] ranked within its kind (departments; townships and
    parks), with its rank in the previous period of the same length and the movement.

    Score = the base score in force on `start` + the unit's points entries dated in the
    period. In a work stream's ranking only the entries whose node's project is in the
    stream count: no base score, no entry that names no node. Two queries, whatever the size.
    """
    if kind is not None and kind not in RankingGroup.values:
        raise ValueError(kind)
    stream_id = _stream_id(work_stream)
    prev_start, prev_end = previous_period(start, end)
    if stream_id is None:
        bases = _base_scores((start, prev_start))
    else:
        bases = {start: Decimal(0), prev_start: Decimal(0)}
    created = (
        Unit.history.model.objects.filter(id=OuterRef("pk"))
        .order_by("history_date")
        .values("history_date")[:1]
    )
    units = ranked_units(work_stream=stream_id, kind=kind).annotate(
        period_entries=_period_entries(min(start, prev_start), max(end, prev_end)),
    )
    units = units.annotate(
        deducted=_sum(_entries_q(start, end, stream_id, [EntryKind.CARD_DEDUCTION])),
        reversed=_sum(_entries_q(start, end, stream_id, [EntryKind.CARD_REVERSAL])),
        bonused=_sum(_entries_q(start, end, stream_id, [EntryKind.BONUS])),
        adjusted=_sum(_entries_q(start, end, stream_id, [EntryKind.ADJUSTMENT])),
        previous_total=_sum(_entries_q(prev_start, prev_end, stream_id)),
        created_at=Subquery(created),
    )
    units = list(units)
    base, prev_base = bases[start].quantize(_CENT), bases[prev_start].quantize(_CENT)
    prev_cutoff = clock.start_of_day(prev_end + dt.timedelta(days=1))
    current, previous = [], []
    for unit in units:
        group = UnitKind.ranking_group(unit.kind)
        points = (unit.deducted + unit.reversed + unit.bonused + unit.adjusted).quantize(_CENT)
        unit.score = base + points
        current.append((unit.pk, group, unit.score, unit.name))
        unit.previous_score = None
        if unit.created_at is None or unit.created_at < prev_cutoff:
            unit.previous_score = prev_base + Decimal(unit.previous_total).quantize(_CENT)
            previous.append((unit.pk, group, unit.previous_score, unit.name))
    ranks, prev_ranks = competition_ranks(current), competition_ranks(previous)
    rows = []
    for unit in units:
        rank, prev_rank = ranks[unit.pk], prev_ranks.get(unit.pk)
        rows.append(
            RankingRow(
                unit=unit,
                kind=unit.kind,
                group=UnitKind.ranking_group(unit.kind),
                base=base,
                deductions=(unit.deducted + unit.reversed).quantize(_CENT),
                reversals=Decimal(unit.reversed).quantize(_CENT),
                bonuses=Decimal(unit.bonused).quantize(_CENT),
                adjustments=Decimal(unit.adjusted).quantize(_CENT),
                points=unit.score - base,
                score=unit.score,
                rank=rank,
                previous_score=unit.previous_score,
                previous_rank=prev_rank,
                movement=movement(prev_rank, rank),
            )
        )
    group_order = {g: i for i, g in enumerate(RankingGroup.values)}
    rows.sort(key=lambda r: (group_order[r.group], r.rank, r.unit.name))
    return rows


def unit_entries(
    *, unit: Unit, start: dt.date, end: dt.date, work_stream: WorkStream | int | None = None
) -> QuerySet:
    """A unit's points entries dated in [start, end] (in a work stream's ranking: those whose
    node's project is in the stream), oldest first, with their node, project and recorder."""
    entries = PointsEntry.objects.filter(_period_q(start, end), unit=unit)
    stream_id = _stream_id(work_stream)
    if stream_id is not None:
        entries = entries.filter(node__project__work_stream_id=stream_id)
    return entries.select_related("node__project", "created_by").order_by("occurred_at", "pk")
