"""REST endpoint for scores: every active unit's score and rank in a calendar year."""

from ninja import Field, Query, Router, Schema

from core import clock
from core.api.pagination import ListParams, page_of, paginate
from core.api.schemas import READ_ERRORS, decimal2

from .selectors import unit_scores

router = Router(tags=["考核"])


class ScoreFilters(ListParams):
    year: int | None = Field(None, ge=2000, le=2100, description="年份，默认当前年份")


class ScoreOut(Schema):
    unit: str
    kind: str
    base: str
    points: str
    score: str
    rank: int

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit_name

    @staticmethod
    def resolve_base(obj) -> str:
        return decimal2(obj.base)

    @staticmethod
    def resolve_points(obj) -> str:
        return decimal2(obj.points)

    @staticmethod
    def resolve_score(obj) -> str:
        return decimal2(obj.score)


@router.get("scores/", response={200: page_of(ScoreOut), **READ_ERRORS})
def scores_list(request, filters: Query[ScoreFilters]):
    """Each active unit's base, points in the year, score and rank within its kind group
    (departments together; townships and parks together)."""
    year = filters.year or clock.today().year
    return paginate(unit_scores(year), filters)
