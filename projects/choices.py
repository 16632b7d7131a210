from django.db import models
from django.utils.translation import gettext_lazy as _


class DisposalMethod(models.TextChoices):
    TAKEBACK = "takeback", _("收储收回")
    GRAFTING = "grafting", _("嫁接盘活")
    SELF_UPGRADE = "self_upgrade", _("自主提升")


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("推进中")
    COMPLETED = "completed", _("已完成")
    SUSPENDED = "suspended", _("暂停")
