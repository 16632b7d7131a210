"""Rankings (奖优罚劣): units' scores in a period ranked within their kind, each unit's entries
with the cards behind them, the office's bonuses and adjustments, and the exports.

Everyone signed in reads the rankings (they are published in the bulletins anyway); only
the supervision office records an entry, and the service checks that again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import clock
from core.tabular import FORMATS, table_response
from organization.choices import UnitKind
from organization.models import Unit
from organization.permissions import Action, may, require
from projects.models import Node
from scoring.choices import EntryKind
from scoring.selectors import unit_entries
from scoring.services import points_entry_record
from supervision.rankings import cards_behind_entries, ranking_with_cards

from ..forms.rankings import PointsEntryForm, RankingFilterForm


def _filters(request) -> RankingFilterForm:
    form = RankingFilterForm(data=request.GET)
    form.is_valid()
    return form


def _period_text(start, end) -> str:
    if start.month == 1 and start.day == 1 and end.month == 12 and end.day == 31:
        if start.year == end.year:
            return _("%(year)s年") % {"year": start.year}
    return _("%(start)s至%(end)s") % {
        "start": _("%(y)s年%(m)s月%(d)s日") % {"y": start.year, "m": start.month, "d": start.day},
        "end": _("%(y)s年%(m)s月%(d)s日") % {"y": end.year, "m": end.month, "d": end.day},
    }


def _query(request) -> str:
    """The page's filters, to carry to the unit page, the export and back."""
    keep = request.GET.copy()
    for key in ("format", "page"):
        keep.pop(key, None)
    return keep.urlencode()


def rankings(request):
    """排名: each unit's score, deductions, bonuses and adjustments, cards and movement."""
    form = _filters(request)
    groups = []
    if form.is_valid():
        filters = form.filters()
        ranked = ranking_with_cards(**filters)
        for group in dict.fromkeys(r.row.group for r in ranked):
            groups.append(
                {
                    "label": _("县直部门") if group == "department" else _("乡镇(园区)"),
                    "rows": [r for r in ranked if r.row.group == group],
                }
            )
        period = _period_text(filters["start"], filters["end"])
    else:
        filters, period = None, ""
    return render(
        request,
        "reports/rankings/list.html",
        {
            "form": form,
            "filters": filters,
            "groups": groups,
            "period": period,
            "query": _query(request),
            "nav_active": "rankings",
        },
    )


def _unit_page(request, unit: Unit, *, entry_form=None, status: int = 200):
    form = _filters(request)
    office = may(request.user, Action.SUPERVISE)
    context = {
        "unit": unit,
        "form": form,
        "office": office,
        "query": _query(request),
        "nav_active": "rankings",
    }
    if form.is_valid():
        filters = form.filters()
        group = UnitKind.ranking_group(unit.kind)
        ranked = ranking_with_cards(**{**filters, "kind": group})
        entries = list(
            unit_entries(
                unit=unit,
                start=filters["start"],
                end=filters["end"],
                work_stream=filters["work_stream"],
            )
        )
        behind = cards_behind_entries(e.pk for e in entries)
        # The ranking is everyone's; the projects and nodes behind it only their readers'.
        node_ids = {e.node_id for e in entries if e.node_id is not None}
        visible = set(
            Node.objects.visible_to(request.user)
            .filter(pk__in=node_ids)
            .values_list("pk", flat=True)
        )
        for entry in entries:
            entry.card = behind.get(entry.pk)
            entry.node_visible = entry.node_id in visible
        context.update(
            filters=filters,
            period=_period_text(filters["start"], filters["end"]),
            ranked=next((r for r in ranked if r.row.unit_id == unit.pk), None),
            entries=entries,
            office_kinds=(EntryKind.BONUS, EntryKind.ADJUSTMENT),
        )
    if office:
        context["entry_form"] = entry_form or PointsEntryForm(
            unit=unit, initial={"kind": EntryKind.BONUS, "occurred_on": clock.today()}
        )
    return render(request, "reports/rankings/unit.html", context, status=status)


def rankings_unit(request, unit_id: int):
    """A unit's entries in the period, each with the card and revocation behind it, and the
    office's bonuses and adjustments with their reason and who recorded them."""
    return _unit_page(request, get_object_or_404(Unit, pk=unit_id))


@require_POST
def rankings_record(request, unit_id: int):
    """The office records a bonus or an adjustment for the unit; on error the form keeps its input."""
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, Action.SUPERVISE, message=_("只有督查办可以记录加分或调整。"))
    form = PointsEntryForm(request.POST, unit=unit)
    if form.is_valid():
        data = form.cleaned_data
        try:
            points_entry_record(
                actor=request.user,
                unit=unit,
                kind=data["kind"],
                points=data["points"],
                reason=data["reason"],
                occurred_on=data["occurred_on"],
                node=data["node"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("已记录。"))
            url = reverse("rankings-unit", args=[unit.pk])
            query = _query(request)
            return redirect(f"{url}?{query}" if query else url)
    return _unit_page(request, unit, entry_form=form)


HEADER = (
    gettext_lazy("类别组"),
    gettext_lazy("排名"),
    gettext_lazy("单位"),
    gettext_lazy("单位类别"),
    gettext_lazy("得分"),
    gettext_lazy("基础分"),
    gettext_lazy("扣分(已扣除撤销)"),
    gettext_lazy("撤销返还"),
    gettext_lazy("加分"),
    gettext_lazy("调整"),
    gettext_lazy("黄牌"),
    gettext_lazy("红牌"),
    gettext_lazy("已撤销亮牌"),
    gettext_lazy("上期排名"),
    gettext_lazy("上期得分"),
    gettext_lazy("变化"),
)


def rankings_export(request):
    """The ranking as filtered on the page, as .xlsx or .csv (ISO dates, numbers as numbers)."""
    fmt = request.GET.get("format", "xlsx")
    form = _filters(request)
    if fmt not in FORMATS or not form.is_valid():
        errors = [f"{k}: {'；'.join(v)}" for k, v in form.errors.items()] if form.errors else []
        if fmt not in FORMATS:
            errors.insert(0, _("导出格式须为 xlsx 或 csv。"))
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    filters = form.filters()
    ranked = ranking_with_cards(**filters)
    group_label = {"department": _("县直部门"), "locality": _("乡镇(园区)")}
    header = [str(h) for h in HEADER]

    def rows():
        for r in ranked:
            row = r.row
            yield (
                str(group_label[row.group]),
                row.rank,
                row.unit.name,
                str(UnitKind(row.kind).label),
                row.score,
                row.base,
                row.deductions,
                row.reversals,
                row.bonuses,
                row.adjustments,
                r.cards.yellow,
                r.cards.red,
                r.cards.revoked,
                row.previous_rank,
                row.previous_score,
                row.movement_text,
            )

    name = f"排名_{filters['start'].isoformat()}_{filters['end'].isoformat()}"
    if filters["work_stream"] is not None:
        name += f"_{filters['work_stream'].code}"
    return table_response(fmt, name, header, rows(), title=_("排名"))
