"""REST endpoints for escalation: recommitments, cards and the priority supervision list."""

import datetime as dt
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from core.api.multipart import JsonOrMultipart, multipart_openapi, uploaded_files
from core.api.pagination import ListParams, page_of, paginate
from core.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    DateIn,
    Instant,
    Message,
    Text,
    decimal2,
    documented_bounds,
)
from projects.choices import DisposalMethod
from projects.selectors import node_list

from ..choices import CardKind
from ..filters import CardFilterSet, SupervisionItemFilterSet, filterset_apply
from ..selectors import card_list, recommitment_list, supervision_item_list
from ..services import (
    card_revoke,
    recommitment_decide,
    recommitment_submit,
    supervision_item_add_inspection,
    supervision_item_close,
    supervision_item_set_deadline,
)

router = Router(tags=["督办"])


class RecommitmentIn(Schema):
    reason: Text
    new_due_date: DateIn


class DecisionIn(Schema):
    comment: Text = ""


class RecommitmentOut(Schema):
    id: int
    node: int
    reason: str
    new_due_date: dt.date
    status: Literal["pending", "approved", "rejected", "lapsed"]
    decided_by: str | None
    comment: str
    submitted_at: Instant
    decided_at: Instant | None

    @staticmethod
    def resolve_node(obj) -> int:
        return obj.node_id

    @staticmethod
    def resolve_decided_by(obj) -> str | None:
        return obj.decided_by.username if obj.decided_by_id else None


class RecommitmentFilters(ListParams):
    status: Literal["pending", "approved", "rejected", "lapsed"] | None = None


class RevokeIn(Schema):
    reason: Text


class NodeRefOut(Schema):
    """A row about a node: its id, its project's code and the responsible unit's name."""

    id: int
    node: int
    project: str
    unit: str

    @staticmethod
    def resolve_node(obj) -> int:
        return obj.node_id

    @staticmethod
    def resolve_project(obj) -> str:
        return obj.node.project.code

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.name


class CardOut(NodeRefOut):
    kind: CardKind
    breached_at: Instant
    issued_at: Instant
    points: str
    revoked_at: Instant | None

    @staticmethod
    def resolve_points(obj) -> str:
        return decimal2(obj.points)


class NodeRowFilters(ListParams):
    """The filters of the office's lists (supervision.filters.NodeRowFilterSet): the
    project's locality and the responsible unit by full name, a disposal method, and the
    node's days overdue (from, to), and the project's work stream by code."""

    work_stream: str | None = Field(None, description="专项代码，如 land")
    locality: str | None = None
    unit: str | None = None
    method: DisposalMethod | None = None
    overdue_min: int | None = Field(None, ge=0, le=36500, description="超期天数不少于")
    overdue_max: int | None = Field(None, ge=0, le=36500, description="超期天数不多于")

    def filter_data(self) -> dict:
        return self.dict(exclude={"limit", "offset", "cursor", "count"}, exclude_none=True)


class CardFilters(NodeRowFilters):
    project: str | None = None
    kind: CardKind | None = None
    revoked: bool | None = None


class SupervisionItemOut(NodeRefOut):
    card: int
    opened_at: Instant
    status: Literal["open", "closed"]
    supervised_deadline: dt.date | None
    ready_to_close: bool

    @staticmethod
    def resolve_card(obj) -> int:
        return obj.card_id

    @staticmethod
    def resolve_ready_to_close(obj) -> bool:
        return obj.is_ready_to_close


class SupervisionItemFilters(NodeRowFilters):
    status: Literal["open", "closed"] | None = None


class InspectionIn(Schema):
    mode: Literal["online", "offline"]
    inspected_on: DateIn
    text: Annotated[str, documented_bounds(maxLength=5000)]


class InspectionOut(Schema):
    id: int
    item: int
    mode: Literal["online", "offline"]
    inspected_on: dt.date
    text: str
    author: str
    created_at: Instant

    @staticmethod
    def resolve_item(obj) -> int:
        return obj.item_id

    @staticmethod
    def resolve_author(obj) -> str:
        return obj.author.username


class DeadlineIn(Schema):
    supervised_deadline: DateIn | None = None


class CloseIn(Schema):
    note: Text


@router.post("nodes/{int:node_id}/recommitments/", response={201: RecommitmentOut, **WRITE_ERRORS})
def recommitments_submit(request, node_id: int, payload: RecommitmentIn):
    """Staff of a yellow-carded node's unit give the overdue reason and a new date (after today)."""
    node = get_object_or_404(node_list(user=request.auth), pk=node_id)
    rec = recommitment_submit(
        node=node, actor=request.auth, reason=payload.reason, new_due_date=payload.new_due_date
    )
    return Status(201, rec)


@router.get("recommitments/", response={200: page_of(RecommitmentOut), **READ_ERRORS})
def recommitments_list(request, filters: Query[RecommitmentFilters]):
    """Staff: their units'; leaders: those they may decide (principal: all); supervision office: all."""
    return paginate(recommitment_list(user=request.auth, status=filters.status), filters)


def _decide(request, recommitment_id: int, approve: bool, comment: str):
    rec = get_object_or_404(recommitment_list(user=request.auth), pk=recommitment_id)
    rec = recommitment_decide(
        recommitment=rec, actor=request.auth, approve=approve, comment=comment
    )
    return recommitment_list(user=request.auth).get(pk=rec.pk)


@router.post(
    "recommitments/{int:recommitment_id}/approve/",
    response={200: RecommitmentOut, **WRITE_ERRORS},
)
def recommitments_approve(request, recommitment_id: int, payload: DecisionIn | None = None):
    """A leader in charge of the unit, or a principal leader, approves: the date becomes committed."""
    return _decide(request, recommitment_id, True, payload.comment if payload else "")


@router.post(
    "recommitments/{int:recommitment_id}/reject/",
    response={200: RecommitmentOut, **WRITE_ERRORS},
)
def recommitments_reject(request, recommitment_id: int, payload: DecisionIn | None = None):
    """A leader in charge of the unit, or a principal leader, rejects with a comment (required)."""
    return _decide(request, recommitment_id, False, payload.comment if payload else "")


@router.get("cards/", response={200: page_of(CardOut), **READ_ERRORS})
def cards_list(request, filters: Query[CardFilters]):
    """Cards on the nodes in the caller's scope, revoked ones included; newest breach first.
    Filtered as the card list pages are (CardFilterSet)."""
    cards = filterset_apply(CardFilterSet, filters.filter_data(), card_list(user=request.auth))
    return paginate(cards, filters)


@router.post("cards/{int:card_id}/revoke/", response={200: CardOut, **WRITE_ERRORS})
def cards_revoke(request, card_id: int, payload: RevokeIn):
    """The supervision office revokes a wrong card with a reason; its points come back."""
    card = get_object_or_404(card_list(user=request.auth), pk=card_id)
    card = card_revoke(card=card, actor=request.auth, reason=payload.reason)
    return card_list(user=request.auth).get(pk=card.pk)


@router.get(
    "supervision-items/",
    response={200: page_of(SupervisionItemOut), 403: Message, **READ_ERRORS},
)
def supervision_items_list(request, filters: Query[SupervisionItemFilters]):
    """The priority supervision list: leaders their units' items (principal: all), the
    supervision office all; unit staff are refused. Filtered as the page is
    (SupervisionItemFilterSet)."""
    items = filterset_apply(
        SupervisionItemFilterSet, filters.filter_data(), supervision_item_list(user=request.auth)
    )
    return paginate(items, filters)


@router.get(
    "supervision-items/{int:item_id}/inspections/",
    response={200: page_of(InspectionOut), 403: Message, **READ_ERRORS},
)
def supervision_item_inspections(request, item_id: int, filters: Query[ListParams]):
    """The inspection records of an item, newest first."""
    item = get_object_or_404(supervision_item_list(user=request.auth), pk=item_id)
    return paginate(
        item.inspections.select_related("author").order_by("-inspected_on", "-pk"), filters
    )


@router.post(
    "supervision-items/{int:item_id}/inspections/",
    response={201: InspectionOut, **WRITE_ERRORS},
    openapi_extra=multipart_openapi("InspectionIn", description="督查照片及材料"),
)
def supervision_item_inspect(request, item_id: int, payload: InspectionIn = JsonOrMultipart(...)):
    """The supervision office records an online or on-site inspection of an item.

    JSON, or multipart/form-data with the same fields and photos or documents under
    `files` (each checked by size and content; one refused file refuses the record: 400).
    """
    item = get_object_or_404(supervision_item_list(user=request.auth), pk=item_id)
    record = supervision_item_add_inspection(
        item=item,
        actor=request.auth,
        mode=payload.mode,
        inspected_on=payload.inspected_on,
        text=payload.text,
        files=uploaded_files(request),
    )
    return Status(201, record)


@router.post(
    "supervision-items/{int:item_id}/deadline/",
    response={200: SupervisionItemOut, **WRITE_ERRORS},
)
def supervision_item_deadline(request, item_id: int, payload: DeadlineIn):
    """The supervision office sets (or clears) the deadline it holds the unit to."""
    item = get_object_or_404(supervision_item_list(user=request.auth), pk=item_id)
    supervision_item_set_deadline(
        item=item, actor=request.auth, deadline=payload.supervised_deadline
    )
    return supervision_item_list(user=request.auth).get(pk=item.pk)


@router.post(
    "supervision-items/{int:item_id}/close/",
    response={200: SupervisionItemOut, **WRITE_ERRORS},
)
def supervision_item_close_endpoint(request, item_id: int, payload: CloseIn):
    """The supervision office closes (销号) an item with a note."""
    item = get_object_or_404(supervision_item_list(user=request.auth), pk=item_id)
    supervision_item_close(item=item, actor=request.auth, note=payload.note)
    return supervision_item_list(user=request.auth).get(pk=item.pk)
