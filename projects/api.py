"""REST endpoint for progress reports: unit staff report how far a node has come."""

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import StrictInt

from core.api.schemas import WRITE_ERRORS, Instant

from .selectors import node_list
from .services import node_progress_report

router = Router(tags=["项目与节点"])


class ProgressIn(Schema):
    percent: StrictInt
    note: str = ""


class ProgressOut(Schema):
    id: int
    node: int
    percent: int
    note: str
    created_at: Instant

    @staticmethod
    def resolve_node(obj) -> int:
        return obj.node_id


@router.post("nodes/{int:node_id}/progress/", response={201: ProgressOut, **WRITE_ERRORS})
def nodes_progress(request, node_id: int, payload: ProgressIn):
    """Staff of the node's unit report progress (percent 0–100 and a note)."""
    node = get_object_or_404(node_list(user=request.auth), pk=node_id)
    report = node_progress_report(
        node=node, actor=request.auth, percent=payload.percent, note=payload.note
    )
    return Status(201, report)
