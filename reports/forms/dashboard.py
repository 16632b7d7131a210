"""The dashboard's choices (which day, which work stream) and the node list's filters."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core import clock
from organization.choices import UnitKind
from organization.models import Unit
from projects.models import WorkStream
from projects.validators import PLAN_DATE_MIN
from supervision.choices import CardKind, Light

BAD_DATE = _("日期格式应为 YYYY-MM-DD，例如 2026-11-30。")


class DashboardForm(forms.Form):
    """Which day the dashboard stands on (empty: today) and which work stream it counts."""

    as_of = forms.DateField(
        label=_("截至日期"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": BAD_DATE},
    )
    work_stream = forms.ModelChoiceField(
        label=_("专项"),
        required=False,
        queryset=WorkStream.objects.order_by("seq", "code"),
        to_field_name="code",
        empty_label=_("全部专项"),
        error_messages={"invalid_choice": _("没有这个专项。")},
    )

    def clean_as_of(self):
        day = self.cleaned_data.get("as_of")
        if day is None:
            return None
        if day > clock.today():
            raise forms.ValidationError(_("截至日期不能晚于今天。"))
        if day < PLAN_DATE_MIN:
            raise forms.ValidationError(_("截至日期不能早于2000年1月1日。"))
        return day


class NodeListFilterSet(django_filters.FilterSet):
    """The node list's filters, all in the URL: light, locality, unit, work stream, card."""

    light = django_filters.ChoiceFilter(
        label=_("状态"), choices=Light.choices, field_name="light", empty_label=_("全部")
    )
    locality = django_filters.ModelChoiceFilter(
        label=_("乡镇(园区)"),
        field_name="project__locality",
        to_field_name="name",
        queryset=Unit.objects.filter(kind__in=UnitKind.locality_kinds()).order_by("name"),
        empty_label=_("全部"),
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("责任单位"),
        field_name="unit",
        to_field_name="name",
        queryset=Unit.objects.order_by("kind", "name"),
        empty_label=_("全部"),
    )
    work_stream = django_filters.ModelChoiceFilter(
        label=_("专项"),
        field_name="project__work_stream",
        to_field_name="code",
        queryset=WorkStream.objects.order_by("seq", "code"),
        empty_label=_("全部"),
    )
    card = django_filters.ChoiceFilter(
        label=_("亮牌"), choices=CardKind.choices, field_name="card_kind", empty_label=_("全部")
    )
