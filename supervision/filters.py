"""FilterSets (django-filter) shared by the pages and the API: one per list, so a filter
means the same wherever a list is read (NetBox's shape, style.md "Pages").

Each FilterSet narrows a queryset that a selector has already scoped to the user; it never
widens it. Units and localities are named by their full names, as in the rest of the API.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core import clock
from organization.choices import UnitKind
from organization.models import Unit
from projects.choices import DisposalMethod, ProjectStatus
from projects.models import DisposalLine, Node, Project, WorkStream

from .choices import CardKind, ItemStatus, Light
from .models import Card
from .selectors import nodes_with_light, overdue_annotate

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


def work_stream_filter(field_name: str, *, empty_label) -> django_filters.ModelChoiceFilter:
    """A work stream (专项), named in the URL by its code (?work_stream=land)."""
    return django_filters.ModelChoiceFilter(
        label=_("专项"),
        field_name=field_name,
        to_field_name="code",
        queryset=WorkStream.objects.order_by("seq", "code"),
        empty_label=empty_label,
    )


class NodeRowFilterSet(django_filters.FilterSet):
    """Filters of rows about a node (items, cards): its project's work stream, where it is,
    who answers, how, how late."""

    work_stream = work_stream_filter("node__project__work_stream", empty_label=_("全部"))

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


# ---- projects: the project list page (/projects/) ----------------------------------------


class ProjectFilter(django_filters.FilterSet):
    """The project list's filters: work stream, locality, responsible unit, disposal method,
    project status, node light, card, and a search over code, name and enterprise. Pass the
    signed-in `user`: the filters on nodes look only at the nodes that user may see (None:
    all of them, for the command line)."""

    q = django_filters.CharFilter(
        method="filter_search",
        label=_("搜索"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("项目编号、名称或企业")}),
    )
    work_stream = work_stream_filter("work_stream", empty_label=_("全部专项"))
    locality = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.filter(kind__in=UnitKind.locality_kinds()).order_by("name"),
        label=_("乡镇(园区)"),
        empty_label=_("全部乡镇(园区)"),
    )
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.order_by("kind", "name"),
        method="filter_unit",
        label=_("责任单位"),
        empty_label=_("全部责任单位"),
    )
    method = django_filters.ChoiceFilter(
        choices=DisposalMethod.choices,
        method="filter_method",
        label=_("处置方式"),
        empty_label=_("全部处置方式"),
    )
    status = django_filters.ChoiceFilter(
        choices=ProjectStatus.choices, label=_("项目状态"), empty_label=_("全部项目状态")
    )
    light = django_filters.ChoiceFilter(
        choices=Light.choices,
        method="filter_light",
        label=_("节点状态"),
        empty_label=_("全部节点状态"),
    )
    card = django_filters.ChoiceFilter(
        choices=CardKind.choices,
        method="filter_card",
        label=_("亮牌"),
        empty_label=_("全部亮牌"),
    )

    class Meta:
        model = Project
        fields = ["q", "work_stream", "locality", "unit", "method", "status", "light", "card"]

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user

    def _visible_nodes(self):
        if self.user is None:  # the command line (export_ledger): the whole county
            return Node.objects.all()
        return Node.objects.visible_to(self.user)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(name__icontains=value)
            | Q(enterprise__name__icontains=value)
        )

    def filter_unit(self, queryset, name, value):
        nodes = self._visible_nodes().filter(unit=value)
        return queryset.filter(pk__in=nodes.values("project_id"))

    def filter_method(self, queryset, name, value):
        lines = DisposalLine.objects.filter(method=value)
        return queryset.filter(pk__in=lines.values("project_id"))

    def filter_light(self, queryset, name, value):
        nodes = nodes_with_light(self._visible_nodes(), today=clock.today()).filter(light=value)
        return queryset.filter(pk__in=nodes.values("project_id"))

    def filter_card(self, queryset, name, value):
        cards = Card.objects.filter(
            kind=value, revoked_at__isnull=True, node__in=self._visible_nodes().values("pk")
        )
        return queryset.filter(pk__in=cards.values("node__project_id"))


# ---- end of projects ----------------------------------------------------------------------
