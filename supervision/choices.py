from django.db import models
from django.utils.translation import gettext_lazy as _


class CardKind(models.TextChoices):
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")

    @property
    def badge(self) -> str:
        return {"yellow": "warning", "red": "danger"}[self.value]


class RecommitmentStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    LAPSED = "lapsed", _("已失效")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("督办中")
    CLOSED = "closed", _("已销号")


class InspectionMode(models.TextChoices):
    ONLINE = "online", _("线上")
    OFFLINE = "offline", _("线下")


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", _("到期提醒")
    CARD_ISSUED = "card_issued", _("亮牌通知")
    RECOMMITMENT_WAITING = "recommitment_waiting", _("待审批")
    RECOMMITMENT_DECIDED = "recommitment_decided", _("审批结果")


class NodeEventKind(models.TextChoices):
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
    INSPECTION = "inspection", _("督查记录")
