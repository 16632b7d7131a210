from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    DEPARTMENT = "department", _("县直部门")
    TOWNSHIP = "township", _("乡镇")
    PARK = "park", _("园区")

    @classmethod
    def locality_kinds(cls) -> tuple[str, ...]:
        return (cls.TOWNSHIP, cls.PARK)

    @classmethod
    def ranking_group(cls, kind: str) -> str:
        """Units are ranked with their peers: departments together, townships and parks together."""
        return "department" if kind == cls.DEPARTMENT else "locality"


class Role(models.TextChoices):
    STAFF = "staff", _("经办人")
    LEADER = "leader", _("分管领导")
    PRINCIPAL = "principal", _("主要领导")
    SUPERVISOR = "supervisor", _("督查办")

    @classmethod
    def unit_bound(cls) -> tuple[str, ...]:
        """Roles that hold for named units; the others hold county-wide."""
        return (cls.STAFF, cls.LEADER)


class CoverageTarget(models.TextChoices):
    LOCALITY = "locality", _("乡镇(园区)")
    ENTERPRISE = "enterprise", _("企业")
    PROJECT = "project", _("项目")
