"""The rankings' forms: the period and filters in the URL, and the office's bonus or adjustment.

They check shape only: the period's rules are scoring.selectors.ranking_period's, the
entry's are scoring.services.points_entry_record's.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from projects.models import Node, WorkStream
from scoring.choices import EntryKind, RankingGroup
from scoring.selectors import YEAR_MAX, YEAR_MIN, ranking_period
from scoring.services import ENTRY_POINTS_MAX, REASON_MAX

EXPORT_FORMATS = (("xlsx", "Excel (.xlsx)"), ("csv", "CSV"))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class RankingFilterForm(forms.Form):
    """年份 or 起止日期, 专项 and 类别, as the URL carries them (all optional: this year)."""

    year = forms.IntegerField(
        label=_("年份"),
        required=False,
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        widget=forms.NumberInput(attrs={"placeholder": _("本年")}),
    )
    start = forms.DateField(label=_("开始日期"), required=False, widget=DateInput())
    end = forms.DateField(label=_("结束日期"), required=False, widget=DateInput())
    work_stream = forms.ModelChoiceField(
        label=_("专项"),
        queryset=WorkStream.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("全部（含基础分）"),
    )
    kind = forms.ChoiceField(
        label=_("单位类别"),
        choices=[("", _("全部"))] + list(RankingGroup.choices),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["start"], data["end"] = ranking_period(
                year=data.get("year"), start=data.get("start"), end=data.get("end")
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data

    def filters(self) -> dict:
        """The selector's arguments: start, end, work_stream, kind (after is_valid())."""
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "work_stream": data.get("work_stream"),
            "kind": data.get("kind") or None,
        }


class PointsEntryForm(forms.Form):
    """The office's bonus (加分) or adjustment (调整) of a unit, with its reason."""

    kind = forms.ChoiceField(
        label=_("类别"),
        choices=[
            (EntryKind.BONUS, EntryKind.BONUS.label),
            (EntryKind.ADJUSTMENT, EntryKind.ADJUSTMENT.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择加分或调整。")},
    )
    points = forms.DecimalField(
        label=_("分值"),
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(
            attrs={"step": "0.5", "min": -ENTRY_POINTS_MAX, "max": ENTRY_POINTS_MAX}
        ),
        help_text=_("加分填正数；调整可正可负，不为0；最多±20分"),
        error_messages={"required": _("请填写分值。"), "invalid": _("请填写数字。")},
    )
    occurred_on = forms.DateField(
        label=_("计分日期"),
        widget=DateInput(),
        error_messages={"required": _("请填写计分日期。"), "invalid": _("请输入有效的日期。")},
    )
    node = forms.ModelChoiceField(
        label=_("相关节点"),
        queryset=Node.objects.none(),
        required=False,
        empty_label=_("（不关联节点）"),
        help_text=_("关联节点后，该记录计入节点所属专项的排名"),
    )
    reason = forms.CharField(
        label=_("事由"),
        strip=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写事由。")},
    )

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = (
            Node.objects.filter(unit=unit)
            .select_related("project")
            .order_by("project__code", "seq")
        )
        self.fields["node"].label_from_instance = lambda n: f"{n.project.code} {n.seq}. {n.name}"
