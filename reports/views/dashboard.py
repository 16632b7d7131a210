"""The dashboard (总览), everyone's home page, and the node list its counts link to."""

from django.core.paginator import Paginator
from django.shortcuts import render

from organization.selectors import user_scope
from supervision.choices import CardKind, Light
from supervision.selectors import nodes_light_decorate

from ..forms.dashboard import DashboardForm, NodeListFilterSet
from ..selectors.dashboard import dashboard as dashboard_figures
from ..selectors.dashboard import node_list_with_light

PAGE_SIZE = 50


def chart_data(figures) -> dict:
    """The charts' numbers for dashboard.js, the same numbers the tables beside them show
    (no item ages for whoever may not see the supervision items)."""
    data = {
        "lights": [
            {"name": str(row.light.label), "value": row.count, "colour": row.light.colour}
            for row in figures.lights
        ],
        "weeks": {
            "labels": [f"{w.start:%m-%d}" for w in figures.weeks],
            "yellow": [w.yellow for w in figures.weeks],
            "red": [w.red for w in figures.weeks],
            "colours": {"yellow": Light.YELLOW.colour, "red": Light.RED.colour},
            "names": {"yellow": str(CardKind.YELLOW.label), "red": str(CardKind.RED.label)},
        },
    }
    if figures.sees_items:
        data["ages"] = {
            "labels": [row.label for row in figures.item_ages],
            "values": [row.count for row in figures.item_ages],
            "colour": Light.RED.colour,
        }
    return data


def dashboard(request):
    """总览: the disposal table, node lights, this year's cards week by week and the open
    supervision items, in the user's scope; `?as_of=` shows a past day as it stood then.
    A refused day is said beside its field and the page shows today (status 400)."""
    form = DashboardForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    cleaned = form.cleaned_data if form.is_bound and valid else {}
    figures = dashboard_figures(
        user=request.user,
        as_of=cleaned.get("as_of"),
        work_stream=cleaned.get("work_stream"),
    )
    scope = user_scope(user=request.user)
    context = {
        "form": form,
        "figures": figures,
        "charts": chart_data(figures),
        "stream_code": figures.work_stream.code if figures.work_stream else "",
        "is_staff_only": bool(scope.staff_unit_ids)
        and not (scope.sees_all or scope.leader_unit_ids),
        "nav_active": "home",
    }
    return render(
        request, "reports/dashboard/dashboard.html", context, status=200 if valid else 400
    )


def node_list(request):
    """Every node in the user's scope with its light, filtered in the URL by light, locality,
    unit, work stream and card; 50 to a page. An invalid filter shows its error and no rows.
    The lights are worked out by the database only when filtered by light or card, else for
    the page's rows alone."""
    by_light = bool(request.GET.get("light") or request.GET.get("card"))
    queryset = node_list_with_light(user=request.user, light=by_light)
    filterset = NodeListFilterSet(data=request.GET, queryset=queryset)
    rows = filterset.qs if filterset.is_valid() else queryset.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = nodes_light_decorate(list(page.object_list))
    return render(
        request,
        "reports/dashboard/nodes.html",
        {"filterset": filterset, "page": page, "nav_active": "home"},
    )
