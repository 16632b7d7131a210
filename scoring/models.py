"""Versioned scoring rules and the append-only points ledger."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.formats import points_text
from organization.models import Unit, choices_check
from projects.models import Node

from .choices import EntryKind


def validate_reminder_days(value) -> None:
    """Reminder days are a list of distinct whole numbers of days, 1 to 60 ([] for none)."""
    if (
        not isinstance(value, list)
        or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 60 for d in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            _("到期提醒须为1到60之间互不相同的整数天数列表，例如 [3, 1]；不提醒填 []。"),
            code="reminder_days",
        )


POINTS_MAX = 20  # a card's deduction, in points
GRACE_WORKDAYS_MAX = 30  # the window to explain a yellow card, in working days
STALE_DAYS_MAX = 90  # early warning: days without a progress report
HORIZON_DAYS_MAX = 365  # early warning: how near the due date the silence counts


class RuleVersion(models.Model):
    """The points, windows and reminders in force from a date on; a new rule is a new row."""

    effective_from = models.DateField(_("生效日期"), unique=True)
    yellow_points = models.DecimalField(
        _("黄牌扣分"),
        max_digits=6,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(POINTS_MAX)],
        help_text=_("0 到 20 分"),
    )
    red_points = models.DecimalField(
        _("红牌扣分"),
        max_digits=6,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(POINTS_MAX)],
        help_text=_("0 到 20 分"),
    )
    base_score = models.DecimalField(_("基础分"), max_digits=7, decimal_places=2, default=100)
    grace_workdays = models.PositiveSmallIntegerField(
        _("说明期限(工作日)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(GRACE_WORKDAYS_MAX)],
        help_text=_("1 到 30 个工作日"),
    )
    reminder_days = models.JSONField(
        _("到期提醒(提前天数)"), default=list, blank=True, validators=[validate_reminder_days]
    )
    lag_points = models.PositiveSmallIntegerField(
        _("序时进度滞后(百分点)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("进度落后于已用时间占比超过该百分点即为进度滞后；1 到 100"),
    )
    stale_days = models.PositiveSmallIntegerField(
        _("未填报进度(天)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(STALE_DAYS_MAX)],
        help_text=_("临近到期的节点连续该天数未填报进度即为进度滞后；1 到 90 天"),
    )
    stale_horizon_days = models.PositiveSmallIntegerField(
        _("临近到期(天)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(HORIZON_DAYS_MAX)],
        help_text=_("距到期不超过该天数的节点才按未填报天数预警；1 到 365 天"),
    )
    early_bonus_points = models.DecimalField(
        _("提前完成加分"),
        max_digits=6,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(POINTS_MAX)],
        help_text=_("节点早于计划日期办结时给责任单位加的分；0 为不加分"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("计分规则")
        verbose_name_plural = _("计分规则")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(yellow_points__gte=0) & Q(red_points__gte=0),
                name="scoring_ruleversion_points_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(grace_workdays__gte=1), name="scoring_ruleversion_grace_positive"
            ),
            # A mistyped rule (200 points, a 300-day window) would decide assessments: bounded.
            models.CheckConstraint(
                condition=Q(yellow_points__lte=POINTS_MAX) & Q(red_points__lte=POINTS_MAX),
                name="scoring_ruleversion_points_bounded",
            ),
            models.CheckConstraint(
                condition=Q(grace_workdays__lte=GRACE_WORKDAYS_MAX),
                name="scoring_ruleversion_grace_bounded",
            ),
            models.CheckConstraint(
                condition=Q(lag_points__gte=1, lag_points__lte=100)
                & Q(stale_days__gte=1, stale_days__lte=STALE_DAYS_MAX)
                & Q(stale_horizon_days__gte=1, stale_horizon_days__lte=HORIZON_DAYS_MAX),
                name="scoring_ruleversion_warning_bounded",
            ),
            models.CheckConstraint(
                condition=Q(early_bonus_points__gte=0, early_bonus_points__lte=POINTS_MAX),
                name="scoring_ruleversion_bonus_bounded",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(date)s 起：黄牌%(yellow)s分 红牌%(red)s分") % {
            "date": f"{self.effective_from:%Y-%m-%d}",
            "yellow": points_text(self.yellow_points),
            "red": points_text(self.red_points),
        }


class PointsEntry(models.Model):
    """One entry of a unit's points ledger; corrections are new entries, never edits."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="points_entries", verbose_name=_("单位")
    )
    kind = models.CharField(_("类别"), max_length=20, choices=EntryKind.choices)
    points = models.DecimalField(_("分值"), max_digits=7, decimal_places=2)
    reason = models.CharField(_("事由"), max_length=500)
    rule_version = models.ForeignKey(
        RuleVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("规则版本"),
    )
    occurred_at = models.DateTimeField(_("计分时间"), db_index=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
    )
    # What an automatic entry answers for (e.g. "early:<node id>"): the database keeps it once.
    event_key = models.CharField(
        _("事件键"), max_length=100, null=True, blank=True, unique=True, editable=False
    )
    # The node an entry answers for (a card's node, an early completion, or the node the office
    # named): a work stream's ranking counts the entries whose node's project is in the stream.
    node = models.ForeignKey(
        Node,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_entries",
        verbose_name=_("节点"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("积分台账")
        verbose_name_plural = _("积分台账")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            choices_check("kind", EntryKind, "scoring_pointsentry_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.CARD_DEDUCTION) | Q(points__lte=0),
                name="scoring_pointsentry_deduction_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.CARD_REVERSAL) | Q(points__gte=0),
                name="scoring_pointsentry_reversal_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.BONUS) | Q(points__gt=0),
                name="scoring_pointsentry_bonus_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.ADJUSTMENT) | ~Q(points=0),
                name="scoring_pointsentry_adjustment_nonzero",
            ),
        ]
        indexes = [models.Index(fields=["unit", "occurred_at"], name="scoring_entry_unit_time")]

    def __str__(self) -> str:
        sign = "+" if self.points > 0 else ""
        return gettext("%(unit)s %(points)s分 %(reason)s") % {
            "unit": self.unit,
            "points": sign + points_text(self.points),
            "reason": self.reason,
        }
