"""The battle map (挂图作战图) for everyone signed in, scoped to what each may see; the same
map as an A3 landscape PDF for the wall."""

from django.shortcuts import render

from core import clock
from core.pdf import pdf_response
from supervision.choices import Light

from ..forms.battle_map import BattleMapForm
from ..selectors.battle_map import (
    DESK,
    LIGHT_MARKS,
    PDF_A3,
    Layout,
    Window,
    battle_map_page,
    mark_ink,
    window_default,
)

FILTERS = ("locality", "unit", "method", "card", "stream")


def _context(request, *, layout: Layout = DESK) -> dict:
    """The filter form bound to the URL, the window and one page of the map with its labels
    placed for the `layout`'s output; an invalid filter shows its error and no rows."""
    form = BattleMapForm(request.GET)
    today = clock.today()
    if form.is_valid():
        data = form.cleaned_data
        window = Window(start=data["start"], end=data["end"], today=today)
        filters = {name: data[name] for name in FILTERS if data[name]}
    else:
        start, end = window_default(today)
        window = Window(start=start, end=end, today=today)
        filters = {}
    map_page = battle_map_page(
        user=request.user,
        window=window,
        page_number=request.GET.get("page"),
        invalid=not form.is_valid(),
        layout=layout,
        **filters,
    )
    earlier, later = window.shifted(-3), window.shifted(3)
    counts = map_page.light_counts
    return {
        "form": form,
        "map": map_page,
        "page": map_page.page,
        "window": window,
        "ticks": window.ticks(),
        "today": today,
        "legend": [(light, LIGHT_MARKS[light], counts[light], mark_ink(light)) for light in Light],
        "chosen": [(form[name].label, _shown(form, name)) for name in FILTERS if name in filters],
        "earlier": earlier,
        "later": later,
        "nav_active": "map",
    }


def _shown(form, name: str) -> str:
    """A chosen filter as the person chose it: its label in the select, not its URL value."""
    value = form.cleaned_data[name]
    if hasattr(value, "pk"):
        return str(value)  # a unit or a work stream, by its name
    return str(dict(form.fields[name].choices).get(value, value))


def battle_map(request):
    """挂图作战图: a page of projects, each with its nodes on the date window's timeline."""
    return render(request, "reports/battle_map/page.html", _context(request))


def battle_map_pdf(request):
    """The same page of the map (same filters, same page number) as an A3 landscape PDF."""
    context = _context(request, layout=PDF_A3) | {"for_pdf": True}
    filename = f"挂图作战图-{context['today'].isoformat()}"
    return pdf_response(request, "reports/battle_map/pdf.html", context, filename)
