from django.db import models
from django.utils.translation import gettext_lazy as _


class CardKind(models.TextChoices):
    """The two cards, in the order they come: the one enum of rules, schemas and services."""

    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


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
    LAGGING_DIGEST = "lagging_digest", _("进度滞后周报")


class Light(models.TextChoices):
    """A node's status light: always a colour and a word (ui.md), the same on every page."""

    DONE = "done", _("已完成")
    RED = "red", _("红牌")
    AWAITING_APPROVAL = "awaiting_approval", _("待审批")
    YELLOW = "yellow", _("黄牌")
    LAGGING = "lagging", _("进度滞后")
    DUE_SOON = "due_soon", _("即将到期")
    ON_TRACK = "on_track", _("正常推进")

    @property
    def colour(self) -> str:
        return LIGHT_COLOURS[self]


LIGHT_COLOURS = {
    Light.DONE: "#8C8C8C",
    Light.RED: "#F5222D",
    Light.AWAITING_APPROVAL: "#722ED1",
    Light.YELLOW: "#FAAD14",
    Light.LAGGING: "#FA8C16",
    Light.DUE_SOON: "#1677FF",
    Light.ON_TRACK: "#52C41A",
}


class TodoAction(models.TextChoices):
    """The one next step a staff member's to-do list offers on a node (我的待办)."""

    RECOMMIT = "recommit", _("说明原因并重新承诺")
    AWAITING = "awaiting", _("待审批")
    REPORT = "report", _("填报进度")
    COMPLETE = "complete", _("办结")
