"""The generate form of the bulletins: a month, or a first and a last day. Shape only; the
service decides whether the period may have a bulletin."""

import calendar
import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class BulletinGenerateForm(forms.Form):
    """A calendar month (the usual bulletin), or a period from a first to a last day."""

    month = forms.DateField(
        label=_("月份"),
        required=False,
        input_formats=["%Y-%m"],
        widget=MonthInput(),
        error_messages={"invalid": _("请选择有效的月份。")},
    )
    period_start = forms.DateField(
        label=_("起始日期"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("请输入有效的日期。")},
    )
    period_end = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("请输入有效的日期。")},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start or end:
            if not (start and end):
                raise forms.ValidationError(_("按时段生成时，请同时填写起始日期和截止日期。"))
            return data
        month = data.get("month")
        if month is None:
            if not self.errors:
                raise forms.ValidationError(_("请选择月份，或填写起始日期和截止日期。"))
            return data
        last = calendar.monthrange(month.year, month.month)[1]
        data["period_start"] = month.replace(day=1)
        data["period_end"] = dt.date(month.year, month.month, last)
        return data
