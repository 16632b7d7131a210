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


class NodeEventKind(models.TextChoices):
    """What happened to a node, as its timeline tells it."""

    COMPLETED = "completed", _("办结")
    PROGRESS = "progress", _("进度填报")
    DUE_CHANGED = "due_changed", _("节点时间变更")
    CARD_ISSUED = "card_issued", _("亮牌")
    CARD_REVOKED = "card_revoked", _("撤销亮牌")
    RECOMMITMENT_SUBMITTED = "recommitment_submitted", _("提交重新承诺")
    RECOMMITMENT_APPROVED = "recommitment_approved", _("批准重新承诺")
    RECOMMITMENT_REJECTED = "recommitment_rejected", _("驳回重新承诺")
    RECOMMITMENT_LAPSED = "recommitment_lapsed", _("重新承诺失效")
    ITEM_OPENED = "item_opened", _("列入重点督办")
    ITEM_CLOSED = "item_closed", _("督办销号")
    ITEM_DEADLINE = "item_deadline", _("督办期限")
    INSPECTION = "inspection", _("督查记录")
    ARCHIVED = "archived", _("归档")


class CompletionSource(models.TextChoices):
    """Where a completion was recorded from: the unit itself, an imported ledger, or a correction."""

    STAFF = "staff", _("责任单位办结")
    LEDGER = "ledger", _("台账导入")
    ADMIN = "admin", _("补录")
