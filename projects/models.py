"""Key projects, their disposal lines and their time nodes."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.files import GeneratedName
from core.models import Attachment
from organization.choices import UnitKind
from organization.models import Coverage, Unit, choices_check
from organization.selectors import user_scope

from .choices import DisposalMethod, NodeEventKind, ProjectStatus
from .validators import PLAN_DATE_MAX, PLAN_DATE_MIN, validate_plan_date, validate_uscc


class Enterprise(models.Model):
    """An enterprise whose land or plant a project deals with."""

    name = models.CharField(_("企业名称"), max_length=200, unique=True)
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_uscc],
    )
    locality = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enterprises",
        limit_choices_to={"kind__in": UnitKind.locality_kinds()},
        verbose_name=_("乡镇(园区)"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_code__isnull=True) | Q(credit_code__length=18),
                name="projects_enterprise_credit_code_length",
            )
        ]

    def __str__(self) -> str:
        return self.name


class WorkStreamQuerySet(models.QuerySet):
    def land(self):
        """The land-governance stream: the one whose projects carry disposal methods and areas."""
        return self.get(is_land=True)


class WorkStream(models.Model):
    """A work stream (专项): a major matter of the county run by the node work method.

    Exactly one stream is the land-governance one (低效用地处置): its projects carry disposal
    methods and areas, and the disposal table counts it alone.
    """

    code = models.SlugField(_("专项代码"), max_length=30, unique=True)
    name = models.CharField(_("专项名称"), max_length=100, unique=True)
    is_land = models.BooleanField(
        _("土地处置专项"),
        default=False,
        help_text=_("处置方式与面积只属于土地处置专项；全县只能有一个。"),
    )
    seq = models.PositiveSmallIntegerField(_("排序"), default=0)
    history = HistoricalRecords()

    objects = WorkStreamQuerySet.as_manager()

    class Meta:
        verbose_name = _("专项")
        verbose_name_plural = _("专项")
        ordering = ["seq", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_land"], condition=Q(is_land=True), name="projects_workstream_one_land"
            )
        ]

    def __str__(self) -> str:
        return self.name


LAND_STREAM_CODE = "land"
LAND_STREAM_NAME = "园区转型升级"


def land_stream_id() -> int:
    """The land-governance stream's id, the default of a project's stream (made on first need,
    so that a ledger without a 专项 column imports as it always did)."""
    stream, _created = WorkStream.objects.get_or_create(
        is_land=True, defaults={"code": LAND_STREAM_CODE, "name": LAND_STREAM_NAME}
    )
    return stream.pk


def covered_project_ids(user_id: int) -> models.QuerySet:
    """The ids of the projects a leader answers for (包保): named on it, or covering it, its
    locality or its enterprise. One UNION of the four paths, each answered by an index, as a
    subquery for `pk__in`/`project_id__in`: no join multiplies rows, so no DISTINCT."""
    coverages = Coverage.objects.filter(leader_id=user_id).order_by()
    projects = Project.objects.order_by()
    return (
        projects.filter(leader_id=user_id)
        .values("pk")
        .union(
            coverages.filter(project__isnull=False).values("project_id"),
            projects.filter(
                locality_id__in=coverages.filter(locality__isnull=False).values("locality_id")
            ).values("pk"),
            projects.filter(
                enterprise_id__in=coverages.filter(enterprise__isnull=False).values("enterprise_id")
            ).values("pk"),
        )
    )


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Projects the user may see: all for the county-wide roles, else those touching their units."""
        scope = user_scope(user=user)
        if scope.sees_all:
            return self
        if not scope.user_id:
            return self.none()
        ids = covered_project_ids(scope.user_id)
        if scope.unit_ids:
            units = sorted(scope.unit_ids)
            ids = ids.union(
                Node.objects.filter(unit_id__in=units).order_by().values("project_id"),
                Project.objects.filter(locality_id__in=units).order_by().values("pk"),
            )
        return self.filter(pk__in=ids)


class Project(models.Model):
    """A key project (重点项目), e.g. one low-efficiency land case."""

    code = models.CharField(_("项目编号"), max_length=50, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    work_stream = models.ForeignKey(
        WorkStream,
        on_delete=models.PROTECT,
        default=land_stream_id,
        related_name="projects",
        verbose_name=_("专项"),
    )
    locality = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="projects",
        limit_choices_to={"kind__in": UnitKind.locality_kinds()},
        verbose_name=_("乡镇(园区)"),
    )
    enterprise = models.ForeignKey(
        Enterprise,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("企业"),
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_projects",
        verbose_name=_("包保领导"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("计划完成日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True, editable=False)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("归档人"),
    )
    history = HistoricalRecords()

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["code"]
        constraints = [
            choices_check("status", ProjectStatus, "projects_project_status_valid"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="projects_project_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def area_mu(self) -> Decimal:
        return sum((line.area_mu for line in self.disposal_lines.all()), Decimal("0.00"))


class DisposalLine(models.Model):
    """One disposal method of a project with the area it covers; a project may have several."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="disposal_lines", verbose_name=_("项目")
    )
    method = models.CharField(_("处置方式"), max_length=20, choices=DisposalMethod.choices)
    area_mu = models.DecimalField(_("面积(亩)"), max_digits=12, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("处置方式")
        verbose_name_plural = _("处置方式")
        ordering = ["project", "id"]
        constraints = [
            choices_check("method", DisposalMethod, "projects_disposalline_method_valid"),
            models.CheckConstraint(
                condition=Q(area_mu__gt=0), name="projects_disposalline_area_positive"
            ),
            models.UniqueConstraint(
                fields=["project", "method"], name="projects_disposalline_unique_method"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.area_mu}亩"


def visible_node_ids(scope) -> models.QuerySet:
    """The ids of the nodes a scope that does not see all may see, as a UNION of index scans:
    the nodes of its units (Node.unit) and the nodes of the projects its user covers
    (Node(project, seq)). Rows about a node are scoped with it (`node_id__in`)."""
    ids = Node.objects.filter(project_id__in=covered_project_ids(scope.user_id)).order_by()
    ids = ids.values("pk")
    if scope.unit_ids:
        ids = ids.union(
            Node.objects.filter(unit_id__in=sorted(scope.unit_ids)).order_by().values("pk")
        )
    return ids


class NodeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Nodes the user may see: all for county-wide roles, else their units' and covered projects'."""
        scope = user_scope(user=user)
        if scope.sees_all:
            return self
        if not scope.user_id:
            return self.none()
        # A filter on the node's own columns, not a join: PostgreSQL orders a scan's filters
        # by cost, so a list filtered by an expensive annotation (a node's light) checks the
        # scope first; the covered projects are one hashed UNION of index scans.
        covered = Q(project_id__in=covered_project_ids(scope.user_id))
        if scope.unit_ids:
            return self.filter(Q(unit_id__in=sorted(scope.unit_ids)) | covered)
        return self.filter(covered)

    def incomplete(self):
        return self.filter(completed_at__isnull=True)


class Node(models.Model):
    """A time node (节点) of a project: a step with a deadline and a responsible unit."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="nodes", verbose_name=_("项目")
    )
    seq = models.PositiveIntegerField(_("节点序号"))
    name = models.CharField(_("节点名称"), max_length=200)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="nodes", verbose_name=_("责任单位")
    )
    owner = models.CharField(_("责任人"), max_length=50, blank=True)
    due_date = models.DateField(_("计划完成日期"), validators=[validate_plan_date])
    committed_due_date = models.DateField(
        _("承诺完成日期"), null=True, blank=True, validators=[validate_plan_date]
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    # The earliest instant at which the escalation rules may owe this node its next card.
    # Null means "not yet worked out": the sweep works out every such node, so a service
    # that changes a node's facts only clears it. A node no card can reach any more holds
    # a far-future instant (supervision's ESCALATION_SETTLED), never null.
    next_escalation_at = models.DateTimeField(
        _("下次升级检查"), null=True, blank=True, editable=False
    )
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True, editable=False)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("归档人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["next_escalation_at", "updated_at"])

    objects = NodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("节点")
        verbose_name_plural = _("节点")
        ordering = ["project__code", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="projects_node_unique_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="projects_node_seq_positive"),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="projects_node_progress_percent",
            ),
            models.CheckConstraint(
                condition=Q(due_date__range=(PLAN_DATE_MIN, PLAN_DATE_MAX))
                & (
                    Q(committed_due_date__isnull=True)
                    | Q(committed_due_date__range=(PLAN_DATE_MIN, PLAN_DATE_MAX))
                ),
                name="projects_node_dates_in_range",
                violation_error_message=_("日期须在 2000-01-01 至 2099-12-31 之间。"),
            ),
        ]
        indexes = [
            models.Index(fields=["next_escalation_at"], name="projects_node_next_esc"),
            # The sweep walks the nodes not yet worked out by pk; usually there are none,
            # and a pk-ordered scan filtering on NULL would read every node to find that.
            models.Index(
                fields=["id"],
                condition=Q(next_escalation_at__isnull=True),
                name="projects_node_unscheduled",
            ),
            models.Index(fields=["unit", "due_date"], name="projects_node_unit_due"),
            models.Index(
                fields=["due_date"],
                condition=Q(completed_at__isnull=True, committed_due_date__isnull=True),
                name="projects_node_open_due",
            ),
            models.Index(
                fields=["committed_due_date"],
                condition=Q(completed_at__isnull=True),
                name="projects_node_open_committed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code}-{self.seq} {self.name}"

    @property
    def effective_due_date(self):
        """The date the node is held to now: the approved recommitment, else the planned date."""
        return self.committed_due_date or self.due_date


class NodeTemplate(models.Model):
    """节点模板: the usual steps of a kind of project, to set up its nodes fast."""

    name = models.CharField(_("模板名称"), max_length=100, unique=True)
    description = models.TextField(_("说明"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("节点模板")
        verbose_name_plural = _("节点模板")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NodeTemplateStep(models.Model):
    """One step of a node template: its name, the kind of unit that does it, its day offset."""

    template = models.ForeignKey(
        NodeTemplate, on_delete=models.CASCADE, related_name="steps", verbose_name=_("模板")
    )
    seq = models.PositiveIntegerField(_("序号"))
    name = models.CharField(_("节点名称"), max_length=200)
    unit_kind = models.CharField(_("责任单位类别"), max_length=20, choices=UnitKind.choices)
    default_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("默认责任单位"),
        help_text=_("县直部门的步骤需指定；乡镇(园区)的步骤留空时由项目所在乡镇(园区)负责。"),
    )
    offset_days = models.PositiveIntegerField(_("距开始天数"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("模板步骤")
        verbose_name_plural = _("模板步骤")
        ordering = ["template", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "seq"], name="projects_nodetemplatestep_unique_seq"
            ),
            models.CheckConstraint(
                condition=Q(seq__gte=1), name="projects_nodetemplatestep_seq_positive"
            ),
            choices_check("unit_kind", UnitKind, "projects_nodetemplatestep_unit_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.name}"


class ProgressReport(models.Model):
    """A progress report (进度) on a node: percent done, a note and attachments."""

    node = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="progress_reports", verbose_name=_("节点")
    )
    percent = models.PositiveSmallIntegerField(_("进度(%)"))
    note = models.TextField(_("说明"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("填报人"),
    )
    is_completion = models.BooleanField(_("办结"), default=False)
    created_at = models.DateTimeField(_("填报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("进度报告")
        verbose_name_plural = _("进度报告")
        ordering = ["-created_at", "-id"]
        # A node's reports newest first, and its latest one for the early warning (per row).
        indexes = [
            models.Index(fields=["node", "-created_at", "-id"], name="projects_report_node_order")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100),
                name="projects_progressreport_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.percent}%"


class ProgressAttachment(Attachment):
    """A file attached to a progress report as evidence."""

    report = models.ForeignKey(
        ProgressReport,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("进度报告"),
    )
    file = models.FileField(_("文件"), upload_to=GeneratedName("progress"))

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class NodeEvent(models.Model):
    """An append-only business fact about a node: who did what, with old and new values."""

    node = models.ForeignKey(
        "Node", on_delete=models.PROTECT, related_name="events", verbose_name=_("节点")
    )
    kind = models.CharField(_("事件"), max_length=30, choices=NodeEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    occurred_at = models.DateTimeField(_("时间"))
    message = models.CharField(_("摘要"), max_length=500)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("节点动态")
        verbose_name_plural = _("节点动态")
        ordering = ["-occurred_at", "-id"]
        db_table = "supervision_nodeevent"  # the table the timeline has always lived in
        constraints = [choices_check("kind", NodeEventKind, "projects_nodeevent_kind_valid")]
        indexes = [models.Index(fields=["node", "occurred_at"], name="projects_event_node")]

    def __str__(self) -> str:
        return f"{self.node} {self.message}"
