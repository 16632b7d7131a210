"""The supervision office: the priority list, card lists, item pages, revocation.

Leaders read the lists and item pages of their units (principal leaders: all); only the
office writes, and the services check that again. Every object is fetched through the
selectors, so anything outside a person's scope answers 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import clock
from core.errors import Conflict
from core.templatetags.core_tags import cn_date, cn_datetime, points
from organization.permissions import Action, may, require
from projects.models import Node

from ..choices import CardKind, ItemStatus
from ..filters import CardFilterSet, SupervisionItemFilterSet
from ..forms.office import CloseForm, DeadlineForm, InspectionForm, RevokeForm
from ..selectors import (
    card_list,
    card_revocation_effects,
    nodes_with_card,
    supervision_item_list,
)
from ..services import (
    card_revoke,
    supervision_item_add_inspection,
    supervision_item_close,
    supervision_item_set_deadline,
)

PAGE_SIZE = 50
IMAGE_EXTENSIONS = {"jpg", "png", "gif", "webp", "bmp"}


def _filtered(request, filterset_class, queryset, *, defaults=None, fixed=None):
    """The FilterSet bound to the URL's filters (`defaults` for absent ones, `fixed` whatever
    the URL says) and one page of its rows; an invalid filter shows its error and no rows."""
    data = request.GET.copy()
    for key, value in (defaults or {}).items():
        data.setdefault(key, value)
    for key, value in (fixed or {}).items():
        data[key] = value
    filterset = filterset_class(data=data, queryset=queryset)
    rows = filterset.qs if filterset.is_valid() else queryset.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return filterset, page


def items(request):
    """重点督办: open items by default, filtered in the URL by locality, unit, disposal
    method and days overdue, each with its last inspection and supervised deadline."""
    filterset, page = _filtered(
        request,
        SupervisionItemFilterSet,
        supervision_item_list(user=request.user),
        defaults={"status": ItemStatus.OPEN},
    )
    return render(
        request,
        "office/items.html",
        {
            "filterset": filterset,
            "page": page,
            "maintain": may(request.user, Action.MAINTAIN),
            "nav_active": "items",
        },
    )


def cards(request):
    """The red-card list or the yellow-card list (?kind=), filtered like the priority list."""
    kind = request.GET.get("kind")
    if kind not in CardKind.values:
        kind = CardKind.RED
    # The kind is the page (红牌 or 黄牌), not a filter to clear.
    filterset, page = _filtered(
        request, CardFilterSet, card_list(user=request.user), fixed={"kind": kind}
    )
    return render(
        request,
        "office/cards.html",
        {
            "filterset": filterset,
            "page": page,
            "kind": CardKind(kind),
            "tabs": (CardKind.RED, CardKind.YELLOW),
            "may_revoke": may(request.user, Action.SUPERVISE),
            "maintain": may(request.user, Action.MAINTAIN),
            "nav_active": "cards",
        },
    )


# -- an item ------------------------------------------------------------------------------


def _item(request, item_id: int):
    return get_object_or_404(supervision_item_list(user=request.user), pk=item_id)


def _form_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError as form errors beside the fields it names."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _item_page(request, item, *, status: int = 200, **forms):
    node = nodes_with_card(
        Node.objects.filter(pk=item.node_id).select_related("project__locality", "unit")
    ).get()
    inspections = list(
        item.inspections.select_related("author")
        .prefetch_related("attachments")
        .order_by("-inspected_on", "-pk")
    )
    for record in inspections:
        for attachment in record.attachments.all():
            # Shown as a picture when its content (which named the stored file) is one.
            attachment.is_image = attachment.file.name.rsplit(".", 1)[-1] in IMAGE_EXTENSIONS
    office = may(request.user, Action.SUPERVISE)
    context = {
        "item": item,
        "node": node,
        "card": item.card,
        "inspections": inspections,
        "office": office,
        "writable": office and item.status == ItemStatus.OPEN,
        "inspection_form": forms.get("inspection_form")
        or InspectionForm(initial={"inspected_on": clock.today()}),
        "deadline_form": forms.get("deadline_form")
        or DeadlineForm(initial={"supervised_deadline": item.supervised_deadline}),
        "close_form": forms.get("close_form") or CloseForm(),
        "nav_active": "items",
    }
    return render(request, "office/item.html", context, status=status)


def item_detail(request, item_id: int):
    """One item: its node and red card, the inspections newest first, and the office's forms."""
    return _item_page(request, _item(request, item_id))


def _write(request, item, form, form_name: str, call, success: str):
    """Bind, call the service, redirect; or show the page again with the errors and input."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            item = _item(request, item.pk)
        else:
            messages.success(request, success)
            return redirect("item", item.pk)
    return _item_page(request, item, **{form_name: form})


@require_POST
def item_inspect(request, item_id: int):
    """Record an online or on-site inspection, with photos or files."""
    item = _item(request, item_id)
    require(request.user, Action.SUPERVISE, message=_("只有督查办可以办理重点督办事项。"))
    form = InspectionForm(request.POST, request.FILES)
    return _write(
        request,
        item,
        form,
        "inspection_form",
        lambda data: supervision_item_add_inspection(
            item=item,
            actor=request.user,
            mode=data["mode"],
            inspected_on=data["inspected_on"],
            text=data["text"],
            files=data["files"],
        ),
        _("已记录督查情况。"),
    )


@require_POST
def item_deadline(request, item_id: int):
    """Set the supervised deadline, or clear it (the 清除 button)."""
    item = _item(request, item_id)
    require(request.user, Action.SUPERVISE, message=_("只有督查办可以办理重点督办事项。"))
    clear = "clear" in request.POST
    form = DeadlineForm(request.POST)
    if form.is_valid() and not clear and form.cleaned_data["supervised_deadline"] is None:
        form.add_error("supervised_deadline", _("请选择督办期限，或点“清除期限”。"))
    return _write(
        request,
        item,
        form,
        "deadline_form",
        lambda data: supervision_item_set_deadline(
            item=item,
            actor=request.user,
            deadline=None if clear else data["supervised_deadline"],
        ),
        _("已清除督办期限。") if clear else _("已设置督办期限。"),
    )


@require_POST
def item_close(request, item_id: int):
    """Close (销号) the item with a note."""
    item = _item(request, item_id)
    require(request.user, Action.SUPERVISE, message=_("只有督查办可以办理重点督办事项。"))
    form = CloseForm(request.POST)
    return _write(
        request,
        item,
        form,
        "close_form",
        lambda data: supervision_item_close(item=item, actor=request.user, note=data["note"]),
        _("已销号。"),
    )


# -- revoking a card ----------------------------------------------------------------------


def revocation_sentence(effects) -> str:
    """What revoking restores, in one sentence: 撤销后将返还 县某某局 2分（计入2026年），…"""
    card = effects.card
    parts = [
        _("撤销后将返还 %(unit)s %(points)s分（计入%(year)s年）")
        % {"unit": card.unit.name, "points": points(effects.points), "year": effects.year}
    ]
    if effects.open_item is not None:
        parts.append(_("关闭重点督办事项 %(node)s") % {"node": effects.open_item.node})
    if effects.pending is not None:
        parts.append(_("待审批的重新承诺将失效"))
    if effects.committed_due_date is not None:
        parts.append(
            _("已批准的承诺完成时间 %(date)s 不再适用")
            % {"date": cn_date(effects.committed_due_date)}
        )
    return "，".join(parts) + "。"


def _revoked_message(card) -> str:
    return _("该亮牌已由 %(who)s 于 %(when)s 撤销（理由：%(reason)s），本次未作任何修改。") % {
        "who": card.revoked_by.display_name if card.revoked_by_id else _("系统"),
        "when": cn_datetime(card.revoked_at),
        "reason": card.revoke_reason.rstrip("。"),
    }


def card_revoke_page(request, card_id: int):
    """Revoke a card with a required reason, after reading exactly what it restores."""
    card = get_object_or_404(card_list(user=request.user), pk=card_id)
    require(request.user, Action.SUPERVISE, message=_("只有督查办可以撤销亮牌。"))
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card_revoke(card=card, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _form_errors(form, exc)
        except Conflict as exc:
            card = card_list(user=request.user).get(pk=card.pk)
            messages.error(request, _revoked_message(card) if card.is_revoked else exc.message)
        else:
            messages.success(
                request,
                _("已撤销%(kind)s，已返还 %(unit)s %(points)s分。")
                % {
                    "kind": card.get_kind_display(),
                    "unit": card.unit.name,
                    "points": points(card.points),
                },
            )
            return redirect(f"{reverse('cards')}?kind={card.kind}")
    effects = card_revocation_effects(card)
    return render(
        request,
        "office/revoke.html",
        {
            "card": card,
            "effects": effects,
            "sentence": revocation_sentence(effects),
            "form": form,
            "nav_active": "cards",
        },
    )
