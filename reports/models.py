"""Bulletins (通报): the office's periodic document, kept with the figures it had when issued."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from organization.models import choices_check

from .choices import BulletinStatus


class Bulletin(models.Model):
    """通报: the cards, lagging nodes, supervision items and scores of a period, frozen when
    generated. A draft may be generated again (its figures replaced); a published one never
    changes. One bulletin per period; numbered 第N期 within the year its period starts in."""

    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    serial = models.PositiveIntegerField(_("期号"), editable=False)
    title = models.CharField(_("标题"), max_length=200)
    figures = models.JSONField(_("数据"), encoder=DjangoJSONEncoder, editable=False)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("生成人"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布人"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["-period_end", "-period_start", "-id"]
        constraints = [
            choices_check("status", BulletinStatus, "reports_bulletin_status_valid"),
            models.UniqueConstraint(
                fields=["period_start", "period_end"], name="reports_bulletin_one_per_period"
            ),
            models.UniqueConstraint(fields=["year", "serial"], name="reports_bulletin_serial_once"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="reports_bulletin_period_order"
            ),
            models.CheckConstraint(
                condition=Q(serial__gte=1), name="reports_bulletin_serial_positive"
            ),
            models.CheckConstraint(
                condition=Q(status=BulletinStatus.DRAFT, published_at__isnull=True)
                | Q(status=BulletinStatus.PUBLISHED, published_at__isnull=False),
                name="reports_bulletin_published_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == BulletinStatus.PUBLISHED
