"""The office's lists as tables for Excel and CSV: the priority supervision list (重点督办)
and the card lists (红牌, 黄牌), row for row what the pages show, filtered the same way.

Headers are in Chinese (the county's files are, whatever the UI language). Dates are date
cells (2026-12-07), instants the county's local time as text (2026-12-04 00:00), points and
days numbers. core.tabular neutralises text a spreadsheet would take for a formula.

Each list is read in one query, streamed a chunk at a time.
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from core import clock

from .choices import CardKind, InspectionMode, ItemStatus
from .models import Card, SupervisionItem

CHUNK = 500

ITEM_HEADER = (
    "项目编号",
    "项目名称",
    "专项",
    "乡镇(园区)",
    "节点序号",
    "节点名称",
    "责任单位",
    "红牌日期",
    "超期天数",
    "督办期限",
    "最近督查日期",
    "最近督查方式",
    "最近督查情况",
    "状态",
)

CARD_HEADER = (
    "类别",
    "项目编号",
    "项目名称",
    "专项",
    "乡镇(园区)",
    "节点序号",
    "节点名称",
    "责任单位",
    "所违期限",
    "超期时刻",
    "亮牌时间",
    "扣分",
    "超期天数",
    "撤销时间",
    "撤销人",
    "撤销理由",
)

# The labels the files carry, in Chinese like the headers.
ITEM_STATUS = {ItemStatus.OPEN: "督办中", ItemStatus.CLOSED: "已销号"}
READY_TO_CLOSE = "节点已办结，可销号"
MODE = {InspectionMode.ONLINE: "线上", InspectionMode.OFFLINE: "线下"}
KIND = {CardKind.RED: "红牌", CardKind.YELLOW: "黄牌"}


def local_text(instant: dt.datetime | None) -> str | None:
    """An instant as the county's local time, 2026-12-04 00:00."""
    if instant is None:
        return None
    return f"{instant.astimezone(clock.local_tz()):%Y-%m-%d %H:%M}"


def overdue_days(overdue: dt.timedelta | None) -> int:
    """超期天数 as the pages count it: whole days past the date, 0 while not yet past."""
    return max(overdue.days, 0) if overdue is not None else 0


def item_rows(items: QuerySet[SupervisionItem]) -> Iterator[list[Any]]:
    """The rows of the priority list (supervision.selectors.supervision_item_list, filtered)."""
    items = items.select_related("node__project__work_stream")
    for item in items.iterator(chunk_size=CHUNK):
        node, project = item.node, item.node.project
        if item.status == ItemStatus.OPEN and item.is_ready_to_close:
            status = READY_TO_CLOSE
        else:
            status = ITEM_STATUS.get(item.status, item.status)
        yield [
            project.code,
            project.name,
            project.work_stream.name,
            project.locality.name,
            node.seq,
            node.name,
            item.unit.name,
            clock.local_date(item.card.breached_at),
            overdue_days(item.overdue),
            item.supervised_deadline,
            item.last_on,
            MODE.get(item.last_mode) if item.last_mode else None,
            item.last_text or None,
            status,
        ]


def card_rows(cards: QuerySet[Card]) -> Iterator[list[Any]]:
    """The rows of a card list (supervision.selectors.card_list, filtered)."""
    cards = cards.select_related("node__project__work_stream")
    for card in cards.iterator(chunk_size=CHUNK):
        node, project = card.node, card.node.project
        yield [
            KIND.get(card.kind, card.kind),
            project.code,
            project.name,
            project.work_stream.name,
            project.locality.name,
            node.seq,
            node.name,
            card.unit.name,
            card.deadline,
            local_text(card.breached_at),
            local_text(card.issued_at),
            card.points,
            overdue_days(card.overdue),
            local_text(card.revoked_at),
            card.revoked_by.display_name if card.revoked_by_id else None,
            card.revoke_reason or None,
        ]
