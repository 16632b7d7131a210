"""The battle map's filters, all in the URL so that a map can be bookmarked, sent and printed."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import clock
from organization.choices import UnitKind
from organization.models import Unit
from projects.choices import DisposalMethod
from projects.models import WorkStream
from projects.validators import PLAN_DATE_MAX, PLAN_DATE_MIN

from ..selectors.battle_map import WINDOW_MAX_MONTHS, CardChoice, months_add, window_default

CARD_CHOICES = [
    ("", _("全部")),
    (CardChoice.ANY, _("有黄牌或红牌")),
    (CardChoice.YELLOW, _("黄牌")),
    (CardChoice.RED, _("红牌")),
    (CardChoice.NONE, _("无亮牌")),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class BattleMapForm(forms.Form):
    """Locality, unit, disposal method, card, work stream and the date window (at most 36
    months; three months back to nine ahead when the URL gives none)."""

    locality = forms.ModelChoiceField(
        label=_("乡镇(园区)"),
        queryset=Unit.objects.filter(kind__in=UnitKind.locality_kinds()).order_by("name"),
        to_field_name="name",
        required=False,
        empty_label=_("全部"),
    )
    unit = forms.ModelChoiceField(
        label=_("责任单位"),
        queryset=Unit.objects.order_by("kind", "name"),
        to_field_name="name",
        required=False,
        empty_label=_("全部"),
    )
    method = forms.ChoiceField(
        label=_("处置方式"),
        choices=[("", _("全部")), *DisposalMethod.choices],
        required=False,
    )
    card = forms.ChoiceField(label=_("亮牌"), choices=CARD_CHOICES, required=False)
    stream = forms.ModelChoiceField(
        label=_("专项"),
        queryset=WorkStream.objects.order_by("seq", "code"),
        to_field_name="code",
        required=False,
        empty_label=_("全部"),
    )
    start = forms.DateField(label=_("起始日期"), required=False, widget=DateInput())
    end = forms.DateField(label=_("截止日期"), required=False, widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        if "start" not in cleaned or "end" not in cleaned:
            return cleaned  # a date that did not parse has its own error
        default_start, default_end = window_default(clock.today())
        start, end = cleaned.get("start"), cleaned.get("end")
        # Each date the URL gives is checked before the other end is worked out from it, so
        # that 0001-01-01 or 9999-12-31 is an error in the form, not a date out of range.
        for name, day in (("start", start), ("end", end)):
            if day is not None and not PLAN_DATE_MIN <= day <= PLAN_DATE_MAX:
                self.add_error(name, ValidationError(_("日期须在 2000-01-01 至 2099-12-31 之间。")))
                return cleaned
        if start is None and end is None:
            start, end = default_start, default_end
        elif start is None:
            start = months_add(end, -12)
        elif end is None:
            end = months_add(start, 12)
        for name, day in (("start", start), ("end", end)):
            if not PLAN_DATE_MIN <= day <= PLAN_DATE_MAX:
                self.add_error(name, ValidationError(_("日期须在 2000-01-01 至 2099-12-31 之间。")))
                return cleaned
        if end <= start:
            raise ValidationError(_("截止日期须晚于起始日期。"))
        if end > months_add(start, WINDOW_MAX_MONTHS):
            raise ValidationError(
                _("时间范围最长 %(n)s 个月。") % {"n": WINDOW_MAX_MONTHS}, code="too_long"
            )
        cleaned["start"], cleaned["end"] = start, end
        return cleaned
