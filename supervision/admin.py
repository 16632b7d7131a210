from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import HistoryAdmin, ReadOnlyAdminMixin
from organization.selectors import user_scope

from .models import (
    CalendarDay,
    Card,
    InspectionAttachment,
    InspectionRecord,
    NodeEvent,
    Notification,
    Recommitment,
    SupervisionItem,
    SweepRun,
)
from .services import calendar_day_delete, calendar_day_save


class ReadOnlyAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Facts are written by services (the sweep, the workflows), never edited by hand here."""


class AppendOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows that are never changed once written, so they keep no history of their own."""


@admin.register(CalendarDay)
class CalendarDayAdmin(HistoryAdmin):
    list_display = ["date", "name", "is_workday"]
    list_filter = ["is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"

    def _keeps_calendar(self, request) -> bool:
        scope = user_scope(user=request.user)
        return request.user.is_superuser or scope.is_supervisor

    def has_add_permission(self, request):
        return self._keeps_calendar(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._keeps_calendar(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._keeps_calendar(request) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        calendar_day_save(
            actor=request.user,
            date=obj.date,
            is_workday=obj.is_workday,
            name=obj.name,
            instance=obj,
        )

    def delete_model(self, request, obj):
        calendar_day_delete(actor=request.user, day=obj)

    def delete_queryset(self, request, queryset):
        for day in queryset:
            calendar_day_delete(actor=request.user, day=day)


@admin.register(Card)
class CardAdmin(ReadOnlyAdmin):
    list_display = [
        "node",
        "unit",
        "kind",
        "deadline",
        "breached_at",
        "issued_at",
        "points",
        "revoked_at",
    ]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter), "unit"]
    search_fields = ["node__project__code", "node__project__name", "node__name", "unit__name"]
    date_hierarchy = "breached_at"
    list_select_related = ["node__project", "unit"]


@admin.register(Recommitment)
class RecommitmentAdmin(ReadOnlyAdmin):
    list_display = [
        "node",
        "new_due_date",
        "status",
        "submitted_by",
        "submitted_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]
    search_fields = ["node__project__code", "node__name", "reason", "comment"]
    list_select_related = ["node__project", "submitted_by", "decided_by"]


class InspectionAttachmentInline(admin.TabularInline):
    model = InspectionAttachment
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class InspectionRecordInline(admin.TabularInline):
    model = InspectionRecord
    extra = 0
    can_delete = False
    fields = ["inspected_on", "mode", "text", "author", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SupervisionItem)
class SupervisionItemAdmin(ReadOnlyAdmin):
    list_display = [
        "node",
        "unit",
        "opened_at",
        "status",
        "supervised_deadline",
        "ready_to_close_at",
        "closed_at",
    ]
    list_filter = ["status", "unit"]
    search_fields = ["node__project__code", "node__name", "unit__name"]
    inlines = [InspectionRecordInline]
    list_select_related = ["node__project", "unit"]


@admin.register(InspectionRecord)
class InspectionRecordAdmin(AppendOnlyAdmin):
    list_display = ["item", "mode", "inspected_on", "author", "created_at"]
    list_filter = ["mode"]
    search_fields = ["text", "item__node__project__code"]
    list_select_related = ["item__node__project", "author"]
    inlines = [InspectionAttachmentInline]


@admin.register(Notification)
class NotificationAdmin(AppendOnlyAdmin):
    list_display = ["recipient", "kind", "title", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "recipient__username", "recipient__full_name", "event_key"]
    list_select_related = ["recipient"]


@admin.register(NodeEvent)
class NodeEventAdmin(AppendOnlyAdmin):
    list_display = ["node", "kind", "message", "actor", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["node__project__code", "node__name", "message"]
    list_select_related = ["node__project", "actor"]


@admin.register(SweepRun)
class SweepRunAdmin(AppendOnlyAdmin):
    list_display = [
        "started_at",
        "finished_at",
        "as_of",
        "yellow",
        "red",
        "items",
        "notifications",
        "nodes_checked",
        "ok",
        "host",
    ]
    list_filter = ["host"]
    date_hierarchy = "started_at"

    @admin.display(boolean=True, description=_("成功"))
    def ok(self, obj):
        return not obj.error
