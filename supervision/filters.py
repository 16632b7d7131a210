"""FilterSets (django-filter): one per list, shared by its page and the API, so a filter means
the same everywhere. Every filter on nodes looks only at the nodes the user may see."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import clock
from organization.choices import UnitKind
from organization.models import Unit
from projects.choices import DisposalMethod, ProjectStatus
from projects.models import DisposalLine, Node, Project

from .choices import CardKind, Light
from .models import Card
from .selectors import nodes_with_light

# ---- projects: the project list page (/projects/) ----------------------------------------


class ProjectFilter(django_filters.FilterSet):
    """The project list's filters: locality, responsible unit, disposal method, project status,
    node light, card, and a search over code, name and enterprise. Pass the signed-in `user`:
    the filters on nodes look only at the nodes that user may see."""

    q = django_filters.CharFilter(
        method="filter_search",
        label=_("搜索"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("项目编号、名称或企业")}),
    )
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
        fields = ["q", "locality", "unit", "method", "status", "light", "card"]

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user

    def _visible_nodes(self):
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
