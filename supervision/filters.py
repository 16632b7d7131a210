"""FilterSets (django-filter) shared by the pages and the API: one per list, so a filter
means the same wherever a list is read (NetBox's shape, style.md "Pages").

Each FilterSet narrows a queryset that a selector has already scoped to the user; it never
widens it. Units and localities are named by their full names, as in the rest of the API.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from organization.choices import UnitKind
from organization.models import Unit
from projects.choices import DisposalMethod
from projects.models import DisposalLine

from .choices import CardKind, ItemStatus
from .selectors import overdue_annotate

# ======================================================================== office ======
# The supervision office's lists: the priority supervision list (重点督办) and the red
# and yellow card lists, filtered alike by locality, unit, disposal method and days overdue.


def filterset_apply(filterset_class, data: dict, queryset: QuerySet) -> QuerySet:
    """The queryset narrowed by `data` through the FilterSet; a ValidationError naming each bad
    parameter (the API answers it with a 400) when a value is not one the FilterSet knows."""
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(
            {
                field: [error["message"] for error in errors]
                for field, errors in filterset.errors.get_json_data().items()
            }
        )
    return filterset.qs


class DaysFilter(django_filters.NumberFilter):
    """A whole number of days, 0 to 36500."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 36500)
        kwargs.setdefault(
            "widget",
            forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": _("不限")}),
        )
        super().__init__(*args, **kwargs)


class NodeRowFilterSet(django_filters.FilterSet):
    """Filters of rows about a node (items, cards): where it is, who answers, how, how late."""

    locality = django_filters.ModelChoiceFilter(
        label=_("乡镇(园区)"),
        field_name="node__project__locality",
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
    method = django_filters.ChoiceFilter(
        label=_("处置方式"),
        choices=DisposalMethod.choices,
        method="filter_method",
        empty_label=_("全部"),
    )
    overdue_min = DaysFilter(label=_("超期天数不少于"), method="filter_overdue")
    overdue_max = DaysFilter(label=_("超期天数不多于"), method="filter_overdue")

    def filter_queryset(self, queryset):
        # The selectors annotate `overdue`; a queryset from elsewhere gets it here.
        if "overdue" not in queryset.query.annotations:
            queryset = overdue_annotate(queryset)
        return super().filter_queryset(queryset)

    def filter_method(self, queryset, name, value):
        """The node's project has a disposal line of this method (one of possibly several)."""
        if not value:
            return queryset
        lines = DisposalLine.objects.filter(project_id=OuterRef("node__project_id"), method=value)
        return queryset.filter(Exists(lines))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        days = dt.timedelta(days=value)
        if name == "overdue_min":
            return queryset.filter(overdue__gte=days)
        return queryset.filter(overdue__lte=days)


class SupervisionItemFilterSet(NodeRowFilterSet):
    """The priority supervision list (重点督办事项)."""

    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=ItemStatus.choices, empty_label=_("全部")
    )


class CardFilterSet(NodeRowFilterSet):
    """The card lists (红牌, 黄牌)."""

    kind = django_filters.ChoiceFilter(
        label=_("类别"), choices=CardKind.choices, empty_label=_("全部")
    )
    project = django_filters.CharFilter(label=_("项目编号"), field_name="node__project__code")
    revoked = django_filters.BooleanFilter(
        label=_("撤销"),
        field_name="revoked_at",
        method="filter_revoked",
        widget=forms.Select(
            choices=[("", _("全部")), ("false", _("未撤销")), ("true", _("已撤销"))]
        ),
    )

    def filter_revoked(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(revoked_at__isnull=not value)


# ==================================================================== end office ======
