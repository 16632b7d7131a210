"""The unit staff's forms: progress, completion, the overdue reason and new date, the weekly update.

They check the shape of what was typed; the services decide (the range of a percent, the
length of a text, a date after today, the files' size and type, a node changed meanwhile),
so a page and the API refuse with the same words.
"""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import TEXT_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (`files`); none is fine."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [f for f in data if f]
        return [data] if data else []


class SeenField(forms.CharField):
    """What the user saw: the node's `updated_at` when the form was drawn, to refuse a stale edit."""

    widget = forms.HiddenInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            seen = dt.datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(_("页面已过期，请刷新后再提交。")) from None
        if seen.tzinfo is None:
            raise forms.ValidationError(_("页面已过期，请刷新后再提交。"))
        return seen


def seen_value(node) -> str:
    """The value a form's `seen` field carries for a node."""
    return node.updated_at.isoformat()


PERCENT_MESSAGES = {
    "required": _("请填写进度（0到100的整数）。"),
    "invalid": _("进度须为0到100之间的整数。"),
}


class ProgressForm(forms.Form):
    percent = forms.IntegerField(
        label=_("当前进度（%）"),
        error_messages=PERCENT_MESSAGES,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1, "inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("进展说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX}),
    )
    files = MultipleFileField(label=_("附件（照片、PDF、Office文档）"))
    seen = SeenField()


class CompleteForm(forms.Form):
    note = forms.CharField(
        label=_("办结说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX}),
    )
    files = MultipleFileField(label=_("办结佐证材料（照片、PDF、Office文档）"))
    seen = SeenField()


class RecommitForm(forms.Form):
    reason = forms.CharField(
        label=_("超期原因"),
        required=False,  # the service says what is missing, in its words
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX}),
    )
    new_due_date = forms.DateField(
        label=_("重新承诺完成时间"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("日期格式应为 年-月-日，如 2026-12-10。")},
    )
    seen = SeenField()


class WeeklyForm(forms.Form):
    """The weekly update: for each open node a new percent, a note and what the user saw.

    Field names carry the node's id: percent_<id>, note_<id>, seen_<id>.
    """

    def __init__(self, *args, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.nodes = list(nodes)
        for node in self.nodes:
            self.fields[f"percent_{node.pk}"] = forms.IntegerField(
                label=_("新进度（%）"),
                initial=node.progress,
                error_messages=PERCENT_MESSAGES,
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": 100, "step": 1, "inputmode": "numeric"}
                ),
            )
            self.fields[f"note_{node.pk}"] = forms.CharField(
                label=_("本周进展"),
                required=False,
                widget=forms.Textarea(
                    attrs={"rows": 2, "maxlength": TEXT_MAX, "placeholder": _("本周进展（可不填）")}
                ),
            )
            self.fields[f"seen_{node.pk}"] = SeenField(initial=seen_value(node))

    def rows(self):
        """(node, percent field, note field, seen field, row errors) for each node, in order."""
        for node in self.nodes:
            seen = self[f"seen_{node.pk}"]
            yield node, self[f"percent_{node.pk}"], self[f"note_{node.pk}"], seen, seen.errors
