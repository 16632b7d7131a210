"""Admin for the versioned scoring rules and the append-only points ledger."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin import HistoryAdmin

from .models import PointsEntry, RuleVersion


class RuleVersionForm(forms.ModelForm):
    class Meta:
        model = RuleVersion
        fields = (
            "effective_from",
            "yellow_points",
            "red_points",
            "base_score",
            "grace_workdays",
            "reminder_days",
            "note",
        )

    def clean_effective_from(self):
        effective_from = self.cleaned_data["effective_from"]
        if effective_from is not None and effective_from <= clock.today():
            raise forms.ValidationError(
                _("生效日期须晚于今天：规则只能对将来生效，已记的扣分不会因改规则而变。")
            )
        return effective_from


class RuleStateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("effective", _("已生效")), ("scheduled", _("待生效")))

    def queryset(self, request, queryset):
        today = clock.today()
        if self.value() == "effective":
            return queryset.filter(effective_from__lte=today)
        if self.value() == "scheduled":
            return queryset.filter(effective_from__gt=today)
        return queryset


@admin.register(RuleVersion)
class RuleVersionAdmin(HistoryAdmin):
    """A rule can be edited or deleted only until it takes effect; after that it is history."""

    form = RuleVersionForm
    list_display = (
        "effective_from",
        "yellow_points",
        "red_points",
        "base_score",
        "grace_workdays",
        "reminder_days",
        "note",
        "created_at",
    )
    list_filter = (RuleStateFilter,)
    search_fields = ("note",)
    date_hierarchy = "effective_from"

    @staticmethod
    def _is_scheduled(obj: RuleVersion | None) -> bool:
        return obj is None or obj.effective_from > clock.today()

    def has_change_permission(self, request, obj=None):
        return self._is_scheduled(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_scheduled(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Bulk delete asks for permission without the rows, so it would reach rules in force.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(PointsEntry)
class PointsEntryAdmin(HistoryAdmin):
    """The ledger is append-only: entries come from the services, corrections are new entries;
    its history (who recorded an office entry, and why) is shown, never restored."""

    list_display = (
        "occurred_at",
        "unit",
        "kind",
        "points",
        "reason",
        "node",
        "rule_version",
        "created_by",
    )
    list_filter = ("kind", "unit__kind", "unit", "rule_version")
    # The reason names the project and node of a card's entry; the card points here, not back.
    search_fields = ("unit__name", "reason")
    list_select_related = ("unit", "node__project", "rule_version", "created_by")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
