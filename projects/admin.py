"""Admin for enterprises, projects and their disposal lines, nodes, templates and progress reports.

Nodes, progress reports and node events are read-only here: their writes go through the
services, which keep node events and the escalation schedule in step. Moving a node's date
is an action that supervision adds to the node admin, since that fact feeds escalation.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin import HistoryAdmin, ReadOnlyAdminMixin, form_action

from .choices import DisposalMethod
from .models import (
    DisposalLine,
    Enterprise,
    Node,
    NodeEvent,
    NodeTemplate,
    NodeTemplateStep,
    ProgressAttachment,
    ProgressReport,
    Project,
    WorkStream,
)
from .services import node_template_apply


class TemplateApplyForm(forms.Form):
    template = forms.ModelChoiceField(NodeTemplate.objects.all(), label=_("节点模板"))
    start_date = forms.DateField(label=_("开始日期"), widget=AdminDateWidget)


@admin.register(WorkStream)
class WorkStreamAdmin(HistoryAdmin):
    list_display = ("name", "code", "is_land", "seq", "project_count")
    list_filter = ("is_land",)
    search_fields = ("name", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_projects=Count("projects"))

    @admin.display(description=_("项目数"), ordering="_projects")
    def project_count(self, obj: WorkStream) -> int:
        return obj._projects


@admin.register(Enterprise)
class EnterpriseAdmin(HistoryAdmin):
    list_display = ("name", "credit_code", "locality", "project_count")
    list_filter = ("locality",)
    search_fields = ("name", "credit_code")
    list_select_related = ("locality",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_projects=Count("projects"))

    @admin.display(description=_("项目数"), ordering="_projects")
    def project_count(self, obj: Enterprise) -> int:
        return obj._projects


class DisposalLineInline(admin.TabularInline):
    model = DisposalLine
    fields = ("method", "area_mu")
    extra = 0


class NodeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Node
    fields = (
        "seq",
        "name",
        "unit",
        "owner",
        "due_date",
        "committed_due_date",
        "progress",
        "completed_at",
    )
    readonly_fields = fields
    ordering = ("seq",)
    show_change_link = True
    extra = 0


class DisposalMethodFilter(admin.SimpleListFilter):
    title = _("处置方式")
    parameter_name = "method"

    def lookups(self, request, model_admin):
        return DisposalMethod.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(disposal_lines__method=self.value()).distinct()
        return queryset


@admin.register(Project)
class ProjectAdmin(HistoryAdmin):
    list_display = (
        "code",
        "name",
        "work_stream",
        "locality",
        "enterprise",
        "leader",
        "status",
        "area",
        "node_progress",
    )
    list_filter = ("work_stream", "status", DisposalMethodFilter, "locality", "leader")
    search_fields = ("code", "name", "enterprise__name", "enterprise__credit_code")
    autocomplete_fields = ("enterprise", "leader")
    list_select_related = ("locality", "enterprise", "leader")
    inlines = (DisposalLineInline, NodeInline)
    actions = ("apply_template",)

    @admin.action(description=_("按模板生成节点"))
    def apply_template(self, request, queryset):
        """Create the selected projects' nodes from a template (all projects or none)."""

        def apply(data) -> str:
            made = sum(
                len(
                    node_template_apply(
                        project=project,
                        template=data["template"],
                        start_date=data["start_date"],
                        actor=request.user,
                    )
                )
                for project in queryset
            )
            return _("已为 %(p)s 个项目生成 %(n)s 个节点。") % {"p": queryset.count(), "n": made}

        return form_action(
            self,
            request,
            queryset,
            form_class=TemplateApplyForm,
            template="admin/projects/project/apply_template.html",
            title=_("按模板生成节点"),
            apply=apply,
            context={"projects": queryset},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # projects are archived, never deleted

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("disposal_lines")
            .annotate(
                _nodes=Count("nodes", distinct=True),
                _done=Count("nodes", filter=Q(nodes__completed_at__isnull=False), distinct=True),
            )
        )

    @admin.display(description=_("面积(亩)"))
    def area(self, obj: Project):
        return obj.area_mu

    @admin.display(description=_("节点完成"), ordering="_done")
    def node_progress(self, obj: Project) -> str:
        return f"{obj._done}/{obj._nodes}"


class CompletionFilter(admin.SimpleListFilter):
    title = _("完成情况")
    parameter_name = "completion"

    def lookups(self, request, model_admin):
        return (
            ("done", _("已完成")),
            ("open", _("未完成")),
            ("overdue", _("超期未完成")),
        )

    def queryset(self, request, queryset):
        today = clock.today()
        overdue = Q(committed_due_date__isnull=True, due_date__lt=today) | Q(
            committed_due_date__lt=today
        )
        match self.value():
            case "done":
                return queryset.filter(completed_at__isnull=False)
            case "open":
                return queryset.filter(completed_at__isnull=True)
            case "overdue":
                return queryset.filter(overdue, completed_at__isnull=True)
        return queryset


@admin.register(Node)
class NodeAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "project_code",
        "seq",
        "name",
        "unit",
        "owner",
        "due_date",
        "committed_due_date",
        "progress",
        "completed_at",
    )
    list_filter = (CompletionFilter, "unit", "project__locality", "unit__kind")
    search_fields = ("project__code", "project__name", "name", "owner")
    list_select_related = ("project", "unit")
    date_hierarchy = "due_date"
    ordering = ("project__code", "seq")

    @admin.display(description=_("项目编号"), ordering="project__code")
    def project_code(self, obj: Node) -> str:
        return obj.project.code


class NodeTemplateStepInline(admin.TabularInline):
    model = NodeTemplateStep
    fields = ("seq", "name", "unit_kind", "default_unit", "offset_days")
    autocomplete_fields = ("default_unit",)
    ordering = ("seq",)
    extra = 0


@admin.register(NodeTemplate)
class NodeTemplateAdmin(HistoryAdmin):
    list_display = ("name", "step_count", "description")
    search_fields = ("name", "description", "steps__name")
    list_filter = ("steps__unit_kind", "steps__default_unit")
    inlines = (NodeTemplateStepInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_steps=Count("steps"))

    @admin.display(description=_("步骤数"), ordering="_steps")
    def step_count(self, obj: NodeTemplate) -> int:
        return obj._steps


class ProgressAttachmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ProgressAttachment
    fields = ("name", "file", "uploaded_at")
    readonly_fields = fields
    extra = 0


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("node", "percent", "is_completion", "author", "created_at")
    list_filter = ("is_completion", "node__unit", "node__project__locality")
    search_fields = (
        "node__project__code",
        "node__project__name",
        "node__name",
        "note",
        "author__username",
        "author__full_name",
    )
    fields = ("node", "percent", "is_completion", "note", "author", "created_at")
    readonly_fields = fields
    list_select_related = ("node__project", "author")
    date_hierarchy = "created_at"
    inlines = (ProgressAttachmentInline,)


@admin.register(NodeEvent)
class NodeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A node's timeline: appended by the services, never changed."""

    list_display = ["node", "kind", "message", "actor", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["node__project__code", "node__name", "message"]
    list_select_related = ["node__project", "actor"]
