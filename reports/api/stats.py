"""Statistics: the dashboard's figures over the caller's scope."""

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema

from core.api.schemas import READ_ERRORS, decimal2

from ..forms.dashboard import DashboardForm
from ..selectors.dashboard import Breakdown, dashboard, disposal_table

router = Router(tags=["统计与通报"])


class DisposalMethodOut(Schema):
    method: Literal["takeback", "grafting", "self_upgrade"]
    projects: int
    area_mu: str


class TotalOut(Schema):
    projects: int
    area_mu: str


class DisposalOut(Schema):
    methods: list[DisposalMethodOut]
    total: TotalOut


@router.get("stats/disposal-methods/", response={200: DisposalOut, **READ_ERRORS})
def stats_disposal_methods(request):
    """The disposal table over the land stream's projects in the caller's scope: projects and
    mu per method, and the distinct projects in total (one project may carry several methods)."""
    table = disposal_table(user=request.auth)
    return {
        "methods": [
            {"method": row.method.value, "projects": row.projects, "area_mu": decimal2(row.area_mu)}
            for row in table.rows
        ],
        "total": {"projects": table.projects, "area_mu": decimal2(table.area_mu)},
    }


class OverviewParams(Schema):
    as_of: str | None = None
    work_stream: str | None = None


class LightOut(Schema):
    light: str
    label: str
    count: int


class WeekOut(Schema):
    week_start: dt.date
    yellow: int
    red: int


class CardsOut(Schema):
    year: int
    yellow: int
    red: int
    total: int
    this_week: int
    weeks: list[WeekOut]


class AgeOut(Schema):
    label: str
    min_days: int
    max_days: int | None
    count: int


class ItemsOut(Schema):
    open: int
    oldest_days: int | None
    ages: list[AgeOut]


class BreakdownOut(Schema):
    id: int
    name: str
    nodes: int
    lights: dict[str, int]
    yellow: int
    red: int
    items_open: int | None = Field(
        description="督办中的重点督办事项数；无权查看重点督办事项（仅单位工作人员）时为 null"
    )
    oldest_days: int | None = Field(
        description="督办中事项最久已督办天数；无事项或无权查看重点督办事项时为 null"
    )


class OverviewOut(Schema):
    as_of: dt.date
    work_stream: str | None
    nodes: int
    lights: list[LightOut]
    cards: CardsOut
    items: ItemsOut | None = Field(
        description="督办中的重点督办事项；无权查看重点督办事项（仅单位工作人员）时为 null"
    )
    by_locality: list[BreakdownOut]
    by_unit: list[BreakdownOut]


def _breakdown(row: Breakdown) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "nodes": row.nodes,
        "lights": row.lights,
        "yellow": row.yellow,
        "red": row.red,
        "items_open": row.items_open,
        "oldest_days": row.oldest_days,
    }


@router.get("stats/overview/", response={200: OverviewOut, **READ_ERRORS})
def stats_overview(request, params: Query[OverviewParams]):
    """The dashboard's counts in the caller's scope: node lights, this year's cards week by
    week, the open supervision items and how long they have been open, the same by locality
    and by unit. Archived nodes and the nodes of archived projects are not counted. The items
    are for leaders and the supervision office: for unit staff `items` is null, and so are
    `items_open` and `oldest_days` in every row. `as_of=YYYY-MM-DD` (today or earlier) gives them as they stood at the end of
    that day; `work_stream` (a 专项 code) counts one stream."""
    form = DashboardForm(params.dict(exclude_none=True))
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    figures = dashboard(
        user=request.auth,
        as_of=form.cleaned_data["as_of"],
        work_stream=form.cleaned_data["work_stream"],
    )
    return {
        "as_of": figures.as_of,
        "work_stream": figures.work_stream.code if figures.work_stream else None,
        "nodes": figures.nodes,
        "lights": [
            {"light": row.light.value, "label": str(row.light.label), "count": row.count}
            for row in figures.lights
        ],
        "cards": {
            "year": figures.year,
            "yellow": figures.yellow,
            "red": figures.red,
            "total": figures.cards,
            "this_week": figures.this_week.total if figures.this_week else 0,
            "weeks": [
                {"week_start": w.start, "yellow": w.yellow, "red": w.red} for w in figures.weeks
            ],
        },
        "items": {
            "open": figures.items_open,
            "oldest_days": figures.items_oldest_days,
            "ages": [
                {"label": a.label, "min_days": a.low, "max_days": a.high, "count": a.count}
                for a in figures.item_ages
            ],
        }
        if figures.sees_items
        else None,
        "by_locality": [_breakdown(row) for row in figures.by_locality],
        "by_unit": [_breakdown(row) for row in figures.by_unit],
    }
