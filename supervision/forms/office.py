"""The supervision office's forms: an inspection, the supervised deadline, closing an item,
revoking a card. They check shape only; the services decide (required text, dates, files)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..choices import InspectionMode


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by core.files.uploads_clean in the service."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class InspectionForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("督查方式"),
        choices=InspectionMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择督查方式（线上或线下）。")},
    )
    inspected_on = forms.DateField(
        label=_("督查日期"),
        widget=DateInput(),
        error_messages={"required": _("请选择督查日期。"), "invalid": _("请输入有效的日期。")},
    )
    text = forms.CharField(
        label=_("督查情况"),
        required=False,
        strip=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    files = MultipleFileField(
        label=_("照片或文件"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx"}),
    )


class DeadlineForm(forms.Form):
    supervised_deadline = forms.DateField(
        label=_("督办期限"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("请输入有效的日期。")},
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("销号说明"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销理由"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )
