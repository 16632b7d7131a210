from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin import HistoryAdmin, ReadOnlyAdminMixin, form_action
from core.formats import points_text
from organization.permissions import Action, may
from projects.admin import NodeAdmin as ProjectsNodeAdmin
from projects.admin import ProjectAdmin as ProjectsProjectAdmin
from projects.models import Node, Project
from scoring.selectors import yellow_points_on

from .models import (
    CalendarDay,
    Card,
    InspectionAttachment,
    InspectionRecord,
    Notification,
    Recommitment,
    SupervisionItem,
    SweepRun,
)
from .services import (
    calendar_day_delete,
    calendar_day_save,
    node_archive,
    node_change_due_date,
    project_archive,
)


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
        return may(request.user, Action.MAINTAIN)

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


class DueDateChangeForm(forms.Form):
    due_date = forms.DateField(label=_("新的计划完成日期"), widget=AdminDateWidget)
    reason = forms.CharField(label=_("调整理由"), max_length=500, widget=forms.Textarea)
    confirm_backdate = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The label names the card and its deduction under today's rule.
        self.fields["confirm_backdate"].label = _(
            "确认补记黄牌：新日期早于今天（未办结节点）或早于办结日期（已办结节点）时，"
            "该节点将被补记一张黄牌，扣%(points)s分"
        ) % {"points": points_text(yellow_points_on(clock.today()))}


class ArchiveForm(forms.Form):
    reason = forms.CharField(label=_("归档理由"), max_length=500, widget=forms.Textarea)


def _archive_action(model_admin, request, queryset, *, service, keyword: str, action: str):
    """Archive the selected rows with one reason, all or none (never a delete)."""

    def apply(data) -> str:
        for row in queryset.order_by("pk"):  # the sweep's lock order
            service(**{keyword: row}, actor=request.user, reason=data["reason"])
        return _("已归档 %(n)s 项。") % {"n": queryset.count()}

    return form_action(
        model_admin,
        request,
        queryset,
        form_class=ArchiveForm,
        template="admin/archive.html",
        title=_("归档"),
        apply=apply,
        context={"rows": queryset, "action": action},
    )


admin.site.unregister(Project)


@admin.register(Project)
class ProjectAdmin(ProjectsProjectAdmin):
    """The project admin of projects, with archiving (it stops escalation of the open nodes)."""

    actions = (*ProjectsProjectAdmin.actions, "archive_projects")

    @admin.action(description=_("归档项目"))
    def archive_projects(self, request, queryset):
        return _archive_action(
            self,
            request,
            queryset,
            service=project_archive,
            keyword="project",
            action="archive_projects",
        )


admin.site.unregister(Node)


@admin.register(Node)
class NodeAdmin(ProjectsNodeAdmin):
    """The node admin of projects, with the action that moves planned dates (a fact escalation reads)."""

    actions = ("change_due_date", "archive_nodes")

    @admin.action(description=_("归档节点"))
    def archive_nodes(self, request, queryset):
        return _archive_action(
            self, request, queryset, service=node_archive, keyword="node", action="archive_nodes"
        )

    @admin.action(description=_("调整节点时间"))
    def change_due_date(self, request, queryset):
        """Move the planned date of the selected nodes, with a reason (all or none)."""

        def apply(data) -> str:
            for node in queryset.order_by("pk"):  # the sweep's lock order
                node_change_due_date(
                    node=node,
                    actor=request.user,
                    reason=data["reason"],
                    due_date=data["due_date"],
                    confirm_backdate=data["confirm_backdate"],
                )
            return _("已调整 %(n)s 个节点的时间。") % {"n": queryset.count()}

        return form_action(
            self,
            request,
            queryset,
            form_class=DueDateChangeForm,
            template="admin/projects/node/change_due_date.html",
            title=_("调整节点时间"),
            apply=apply,
            context={"nodes": queryset},
        )
