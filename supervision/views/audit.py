"""The supervision office's change log: every recorded change by person, object and date."""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from organization.models import User
from organization.permissions import Action, require

from ..audit import audit_changes, tracked_models

PAGE_SIZE = 50
ACTION_LABELS = {"+": _("新增"), "~": _("修改"), "-": _("删除")}


class AuditFilterForm(forms.Form):
    """The change log's filters: person, kind of object, date range (inclusive)."""

    user = forms.ModelChoiceField(
        label=_("操作人"), queryset=User.objects.order_by("username"), required=False
    )
    model = forms.ChoiceField(label=_("对象类别"), required=False)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("全部"))] + [
            (m._meta.label_lower, m._meta.verbose_name) for m in tracked_models()
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data


def audit(request):
    """变更记录: changes across the history-tracked models, newest first, one page at a time."""
    require(request.user, Action.SUPERVISE)
    form = AuditFilterForm(data=request.GET or None)
    if form.is_bound and not form.is_valid():
        changes = None
    else:
        data = form.cleaned_data if form.is_bound else {}
        changes = audit_changes(
            user_id=data["user"].pk if data.get("user") else None,
            model_label=data.get("model") or None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
    page = Paginator(changes if changes is not None else [], PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    users = User.objects.in_bulk({r["history_user_id"] for r in rows} - {None})
    names = {m._meta.label_lower: m._meta.verbose_name for m in tracked_models()}
    for r in rows:
        r["user"] = users.get(r["history_user_id"])
        r["model_name"] = names.get(r["model"], r["model"])
        r["action"] = ACTION_LABELS.get(r["history_type"], r["history_type"])
    return render(
        request,
        "office/audit.html",
        {"form": form, "page": page, "rows": rows, "nav_active": "audit"},
    )
