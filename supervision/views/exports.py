"""Downloads of the office's lists (?format=xlsx|csv), filtered exactly as the page they come
from: the same FilterSet, the same defaults, the same scope (leaders read them too)."""

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

from core import clock
from core.tabular import FORMATS, table_response

from ..choices import CardKind, ItemStatus
from ..exports import CARD_HEADER, ITEM_HEADER, KIND, card_rows, item_rows
from ..filters import CardFilterSet, SupervisionItemFilterSet
from ..selectors import card_list, supervision_item_list


def _bound(request, filterset_class, queryset, *, defaults=None, fixed=None):
    """The page's FilterSet on the URL's filters (office._filtered, without the pages)."""
    data = request.GET.copy()
    for key, value in (defaults or {}).items():
        data.setdefault(key, value)
    for key, value in (fixed or {}).items():
        data[key] = value
    return filterset_class(data=data, queryset=queryset)


def _download(request, filterset, filename: str, header, rows):
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(_("导出格式应为 xlsx 或 csv。"))
    if not filterset.is_valid():
        return HttpResponseBadRequest(_("筛选条件有误，请回到列表修改后再导出。"))
    name = f"{filename}-{clock.today().isoformat()}"
    return table_response(fmt, name, header, rows(filterset.qs), filename)


def items_export(request):
    """重点督办事项 as a file, as the list filters it (open items unless the URL says)."""
    filterset = _bound(
        request,
        SupervisionItemFilterSet,
        supervision_item_list(user=request.user),
        defaults={"status": ItemStatus.OPEN},
    )
    return _download(request, filterset, "重点督办事项", ITEM_HEADER, item_rows)


def cards_export(request):
    """The red-card or yellow-card list (?kind=, red by default) as a file."""
    kind = request.GET.get("kind")
    if kind not in CardKind.values:
        kind = CardKind.RED
    filterset = _bound(request, CardFilterSet, card_list(user=request.user), fixed={"kind": kind})
    return _download(request, filterset, f"{KIND[kind]}清单", CARD_HEADER, card_rows)
