from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    CARD_DEDUCTION = "card_deduction", _("亮牌扣分")
    CARD_REVERSAL = "card_reversal", _("撤销返还")
    BONUS = "bonus", _("加分")
    ADJUSTMENT = "adjustment", _("调整")


class RankingGroup(models.TextChoices):
    """The kinds units are ranked within (organization.choices.UnitKind.ranking_group)."""

    DEPARTMENT = "department", _("县直部门")
    LOCALITY = "locality", _("乡镇(园区)")
