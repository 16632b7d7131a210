"""Units, people, their roles and coverage (包保)."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import CoverageTarget, Role, UnitKind


def choices_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """A CheckConstraint that holds a choices field to its values (choices alone constrain nothing)."""
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class Unit(models.Model):
    """A responsible unit (责任单位): a county department, a township or a park."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=UnitKind.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["kind", "name"]
        constraints = [choices_check("kind", UnitKind, "organization_unit_kind_valid")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_locality(self) -> bool:
        return self.kind in UnitKind.locality_kinds()


class NodeTrackUserManager(UserManager):
    """Django's user manager, under a name of this project's (the migrations refer to it)."""


class User(AbstractUser):
    """A person who signs in: unit staff, a leader, the supervision office or an administrator."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    objects = NodeTrackUserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class RoleAssignment(models.Model):
    """One role held by a person: staff or leader in charge of a unit, or a county-wide role."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("用户")
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("单位"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            choices_check("role", Role, "organization_roleassignment_role_valid"),
            models.CheckConstraint(
                condition=(Q(role__in=Role.unit_bound()) & Q(unit__isnull=False))
                | (~Q(role__in=Role.unit_bound()) & Q(unit__isnull=True)),
                name="organization_roleassignment_unit_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit"], name="organization_roleassignment_unique_unit_role"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(unit__isnull=True),
                name="organization_roleassignment_unique_county_role",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_role_display()
        return f"{self.user} · {label}" + (f" · {self.unit}" if self.unit_id else "")


class Coverage(models.Model):
    """包保: a county leader answers for a locality, an enterprise or a project."""

    leader = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="coverages", verbose_name=_("包保领导")
    )
    target = models.CharField(_("包保对象"), max_length=20, choices=CoverageTarget.choices)
    locality = models.ForeignKey(
        Unit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coverages",
        verbose_name=_("乡镇(园区)"),
    )
    enterprise = models.ForeignKey(
        "projects.Enterprise",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coverages",
        verbose_name=_("企业"),
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coverages",
        verbose_name=_("项目"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("包保关系")
        verbose_name_plural = _("包保关系")
        constraints = [
            choices_check("target", CoverageTarget, "organization_coverage_target_valid"),
            models.CheckConstraint(
                condition=(
                    Q(
                        target=CoverageTarget.LOCALITY,
                        locality__isnull=False,
                        enterprise__isnull=True,
                        project__isnull=True,
                    )
                    | Q(
                        target=CoverageTarget.ENTERPRISE,
                        locality__isnull=True,
                        enterprise__isnull=False,
                        project__isnull=True,
                    )
                    | Q(
                        target=CoverageTarget.PROJECT,
                        locality__isnull=True,
                        enterprise__isnull=True,
                        project__isnull=False,
                    )
                ),
                name="organization_coverage_one_target",
            ),
            models.UniqueConstraint(
                fields=["leader", "locality"],
                condition=Q(locality__isnull=False),
                name="organization_coverage_unique_locality",
            ),
            models.UniqueConstraint(
                fields=["leader", "enterprise"],
                condition=Q(enterprise__isnull=False),
                name="organization_coverage_unique_enterprise",
            ),
            models.UniqueConstraint(
                fields=["leader", "project"],
                condition=Q(project__isnull=False),
                name="organization_coverage_unique_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leader} → {self.locality or self.enterprise or self.project}"


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户")
    )
    digest = models.CharField(_("摘要"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("前缀"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.prefix}…"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)
