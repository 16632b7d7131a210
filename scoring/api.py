"""REST endpoint for scores: every unit's score and rank in a year or a period, as on the rankings page."""

from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from core.api.pagination import ListParams, page_of, paginate
from core.api.schemas import READ_ERRORS, DateIn, decimal2
from projects.models import WorkStream

from .selectors import YEAR_MAX, YEAR_MIN, ranking_period, unit_ranking

router = Router(tags=["考核"])


class ScoreFilters(ListParams):
    year: int | None = Field(
        None, ge=YEAR_MIN, le=YEAR_MAX, description="年份，默认当前年份；与 start/end 二选一"
    )
    start: DateIn | None = Field(None, description="统计期间的开始日期（含），YYYY-MM-DD")
    end: DateIn | None = Field(None, description="统计期间的结束日期（含），YYYY-MM-DD")
    work_stream: str | None = Field(
        None,
        max_length=30,
        description="专项代码：只计该专项项目节点的记录，不含基础分",
    )
    kind: Literal["department", "locality"] | None = Field(
        None, description="排名类别：department 县直部门，locality 乡镇(园区)"
    )


class ScoreOut(Schema):
    unit_id: int
    unit: str
    kind: str
    base: str
    points: str
    deductions: str
    bonuses: str
    adjustments: str
    score: str
    rank: int
    previous_rank: int | None
    movement: int | None

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_base(obj) -> str:
        return decimal2(obj.base)

    @staticmethod
    def resolve_points(obj) -> str:
        return decimal2(obj.points)

    @staticmethod
    def resolve_deductions(obj) -> str:
        return decimal2(obj.deductions)

    @staticmethod
    def resolve_bonuses(obj) -> str:
        return decimal2(obj.bonuses)

    @staticmethod
    def resolve_adjustments(obj) -> str:
        return decimal2(obj.adjustments)

    @staticmethod
    def resolve_score(obj) -> str:
        return decimal2(obj.score)


def _work_stream(code: str | None) -> WorkStream | None:
    if code is None:
        return None
    stream = WorkStream.objects.filter(code=code).first()
    if stream is None:
        raise ValidationError({"work_stream": [_("没有该专项。")]})
    return stream


@router.get("scores/", response={200: page_of(ScoreOut), **READ_ERRORS})
def scores_list(request, filters: Query[ScoreFilters]):
    """Each active unit's base, points (deductions net of revocations, bonuses, adjustments),
    score and rank within its kind (departments together; townships and parks together)
    for a year or the days from start to end, with its rank in the previous period of the
    same length and the movement (null: the unit is new). With work_stream, only the
    entries of that stream's nodes count and no base score."""
    start, end = ranking_period(year=filters.year, start=filters.start, end=filters.end)
    rows = unit_ranking(
        start=start, end=end, work_stream=_work_stream(filters.work_stream), kind=filters.kind
    )
    return paginate(rows, filters)
