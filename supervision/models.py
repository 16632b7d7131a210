"""Cards, recommitments, the priority supervision list, notifications and the working calendar."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.files import GeneratedName
from core.models import Attachment
from organization.models import Unit, choices_check
from organization.selectors import user_scope
from projects.models import Node, visible_node_ids
from projects.validators import PLAN_DATE_MAX, PLAN_DATE_MIN, validate_plan_date
from scoring.models import PointsEntry, RuleVersion

from .choices import (
    CardKind,
    InspectionMode,
    ItemStatus,
    NotificationKind,
    RecommitmentStatus,
)

models.CharField.register_lookup(Length)
models.TextField.register_lookup(Length)


class CalendarDay(models.Model):
    """An office-entered day that overrides the packaged calendar: a holiday or a make-up working day."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"), help_text=_("勾选为调休上班日，不勾选为放假日。"))
    name = models.CharField(_("名称"), max_length=50, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("放假")
        return f"{self.date:%Y-%m-%d} {self.name} {kind}"


class NodeScopedQuerySet(models.QuerySet):
    """Rows about a node: a user sees them exactly where they see the node (Node.visible_to)."""

    def visible_to(self, user):
        scope = user_scope(user=user)
        if scope.sees_all:
            return self
        if not scope.user_id:
            return self.none()
        return self.filter(node_id__in=visible_node_ids(scope))


class Card(models.Model):
    """A yellow or red card that the sweep issued against a node for a breached deadline."""

    node = models.ForeignKey(
        Node, on_delete=models.PROTECT, related_name="cards", verbose_name=_("节点")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="cards", verbose_name=_("责任单位")
    )
    kind = models.CharField(_("类别"), max_length=10, choices=CardKind.choices)
    deadline = models.DateField(_("所违期限"))
    breached_at = models.DateTimeField(_("超期时刻"))
    issued_at = models.DateTimeField(_("亮牌时间"))
    points = models.DecimalField(_("扣分"), max_digits=6, decimal_places=2)
    rule_version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("规则版本")
    )
    # The card points at its entries in the points ledger, which knows nothing of cards.
    deduction = models.OneToOneField(
        PointsEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("扣分记录")
    )
    reversal = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("返还记录"),
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤销人"),
    )
    revoke_reason = models.TextField(_("撤销理由"), blank=True)
    history = HistoricalRecords()

    objects = NodeScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("亮牌")
        verbose_name_plural = _("亮牌")
        ordering = ["-breached_at", "-id"]
        constraints = [
            choices_check("kind", CardKind, "supervision_card_kind_valid"),
            # One card of each kind in force per node; never two for the same deadline,
            # so a revoked card is not issued again, while a new deadline may earn one.
            models.UniqueConstraint(
                fields=["node", "kind"],
                condition=Q(revoked_at__isnull=True),
                name="supervision_card_one_in_force_per_kind",
            ),
            models.UniqueConstraint(
                fields=["node", "kind", "deadline"], name="supervision_card_once_per_deadline"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True, revoke_reason="")
                | (Q(revoked_at__isnull=False) & ~Q(revoke_reason="")),
                name="supervision_card_revocation_complete",
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0), name="supervision_card_points_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, reversal__isnull=True)
                | Q(revoked_at__isnull=False, reversal__isnull=False),
                name="supervision_card_reversal_when_revoked",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "breached_at"], name="supervision_card_unit_time"),
            # The card lists' order (newest breach first): a page is read off the index.
            models.Index(fields=["-breached_at", "-id"], name="supervision_card_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.node}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Recommitment(models.Model):
    """重新承诺: after a yellow card, the unit's overdue reason and a new date, for a leader to decide."""

    node = models.ForeignKey(
        Node, on_delete=models.PROTECT, related_name="recommitments", verbose_name=_("节点")
    )
    reason = models.TextField(_("超期原因"), max_length=2000)
    new_due_date = models.DateField(_("重新承诺完成时间"), validators=[validate_plan_date])
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=RecommitmentStatus.choices,
        default=RecommitmentStatus.PENDING,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提交人"),
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    comment = models.TextField(_("审批意见"), blank=True, max_length=2000)
    history = HistoricalRecords()

    objects = NodeScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("重新承诺")
        verbose_name_plural = _("重新承诺")
        ordering = ["-submitted_at", "-id"]
        # The recommitment lists' order (newest first).
        indexes = [models.Index(fields=["-submitted_at", "-id"], name="supervision_rec_list_order")]
        constraints = [
            choices_check("status", RecommitmentStatus, "supervision_recommitment_status_valid"),
            models.UniqueConstraint(
                fields=["node"],
                condition=Q(status=RecommitmentStatus.PENDING),
                name="supervision_recommitment_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(reason__length__gte=1) & Q(reason__length__lte=2000),
                name="supervision_recommitment_reason_length",
            ),
            models.CheckConstraint(
                condition=Q(new_due_date__range=(PLAN_DATE_MIN, PLAN_DATE_MAX)),
                name="supervision_recommitment_date_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status=RecommitmentStatus.PENDING, decided_at__isnull=True)
                | (~Q(status=RecommitmentStatus.PENDING) & Q(decided_at__isnull=False)),
                name="supervision_recommitment_decided_when_final",
            ),
            models.CheckConstraint(
                condition=~Q(status=RecommitmentStatus.REJECTED) | ~Q(comment=""),
                name="supervision_recommitment_rejection_has_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} → {self.new_due_date:%Y-%m-%d} ({self.get_status_display()})"


class SupervisionItem(models.Model):
    """重点督办事项: a red-carded node on the priority supervision list."""

    card = models.OneToOneField(
        Card, on_delete=models.PROTECT, related_name="supervision_item", verbose_name=_("红牌")
    )
    node = models.ForeignKey(
        Node, on_delete=models.PROTECT, related_name="supervision_items", verbose_name=_("节点")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="supervision_items", verbose_name=_("责任单位")
    )
    opened_at = models.DateTimeField(_("列入时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    supervised_deadline = models.DateField(_("督办期限"), null=True, blank=True)
    ready_to_close_at = models.DateTimeField(_("可销号时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("销号人"),
    )
    close_note = models.TextField(_("销号说明"), blank=True)
    history = HistoricalRecords()

    objects = NodeScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("重点督办事项")
        verbose_name_plural = _("重点督办事项")
        ordering = ["-opened_at", "-id"]
        constraints = [
            choices_check("status", ItemStatus, "supervision_supervisionitem_status_valid"),
            models.CheckConstraint(
                condition=Q(status=ItemStatus.OPEN, closed_at__isnull=True)
                | (Q(status=ItemStatus.CLOSED, closed_at__isnull=False) & ~Q(close_note="")),
                name="supervision_supervisionitem_closed_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "opened_at"], name="supervision_item_status"),
            # The priority list's order (newest first).
            models.Index(fields=["-opened_at", "-id"], name="supervision_item_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.node} ({self.get_status_display()})"

    @property
    def is_ready_to_close(self) -> bool:
        return self.status == ItemStatus.OPEN and self.ready_to_close_at is not None


class InspectionRecord(models.Model):
    """督查记录: what the supervision office did about an item, online or on site."""

    item = models.ForeignKey(
        SupervisionItem,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("督办事项"),
    )
    mode = models.CharField(_("方式"), max_length=10, choices=InspectionMode.choices)
    inspected_on = models.DateField(_("督查日期"))
    text = models.TextField(_("督查情况"), max_length=5000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("记录人"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督查记录")
        verbose_name_plural = _("督查记录")
        ordering = ["-inspected_on", "-id"]
        # An item's inspections newest first, and its last one on the priority list.
        indexes = [
            models.Index(
                fields=["item", "-inspected_on", "-id"], name="supervision_inspection_order"
            )
        ]
        constraints = [
            choices_check("mode", InspectionMode, "supervision_inspectionrecord_mode_valid")
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.get_mode_display()} {self.inspected_on:%Y-%m-%d}"


class InspectionAttachment(Attachment):
    """A file attached to an inspection record."""

    record = models.ForeignKey(
        InspectionRecord,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("督查记录"),
    )
    file = models.FileField(_("文件"), upload_to=GeneratedName("inspections"))

    class Meta:
        verbose_name = _("督查附件")
        verbose_name_plural = _("督查附件")


class Notification(models.Model):
    """An in-app message to one person about one event; the event key makes it go once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类别"), max_length=30, choices=NotificationKind.choices)
    event_key = models.CharField(_("事件"), max_length=120)
    node = models.ForeignKey(
        Node,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("节点"),
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("邮件尝试次数"), default=0)
    email_next_at = models.DateTimeField(_("邮件下次尝试时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            choices_check("kind", NotificationKind, "supervision_notification_kind_valid"),
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="supervision_notification_once_per_event"
            ),
        ]
        indexes = [
            # A user's notifications, newest first.
            models.Index(
                fields=["recipient", "-created_at", "-id"], name="supervision_notif_list_order"
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="supervision_notif_unread",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True),
                name="supervision_notif_unsent",
            ),
            # The sweep asks whether an event's notifications exist (reminders made, say).
            models.Index(fields=["event_key"], name="supervision_notif_event"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.title}"


class SweepRun(models.Model):
    """One pass of the escalation sweep: when, as of which instant, what it issued, what failed."""

    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    as_of = models.DateTimeField(_("判定时刻"))
    yellow = models.PositiveIntegerField(_("黄牌"), default=0)
    red = models.PositiveIntegerField(_("红牌"), default=0)
    items = models.PositiveIntegerField(_("督办事项"), default=0)
    notifications = models.PositiveIntegerField(_("通知"), default=0)
    nodes_checked = models.PositiveIntegerField(_("检查节点数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    host = models.CharField(_("主机"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("巡检记录")
        verbose_name_plural = _("巡检记录")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return gettext("%(started)s 巡检：黄牌%(yellow)s张，红牌%(red)s张") % {
            "started": f"{timezone.localtime(self.started_at):%Y-%m-%d %H:%M}",
            "yellow": self.yellow,
            "red": self.red,
        }
