"""REST endpoint for progress reports: unit staff report how far a node has come."""

from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from core.api.multipart import FormInt, JsonOrMultipart, multipart_openapi, uploaded_files
from core.api.schemas import WRITE_ERRORS, Instant, Percent, Text

from .selectors import node_list
from .services import node_progress_report

router = Router(tags=["项目与节点"])


class ProgressIn(Schema):
    percent: Annotated[FormInt, Percent]
    note: Text = ""


class ProgressOut(Schema):
    id: int
    node: int
    percent: Annotated[int, Percent]
    note: str
    created_at: Instant

    @staticmethod
    def resolve_node(obj) -> int:
        return obj.node_id


@router.post(
    "nodes/{int:node_id}/progress/",
    response={201: ProgressOut, **WRITE_ERRORS},
    openapi_extra=multipart_openapi(
        "ProgressIn", description="进度佐证附件（照片、PDF、Office文档）"
    ),
)
def nodes_progress(request, node_id: int, payload: ProgressIn = JsonOrMultipart(...)):
    """Staff of the node's unit report progress (percent 0–100 and a note).

    JSON, or multipart/form-data with the same fields and evidence files under `files`
    (each checked by size and content; one refused file refuses the report: 400).
    """
    node = get_object_or_404(node_list(user=request.auth), pk=node_id)
    report = node_progress_report(
        node=node,
        actor=request.auth,
        percent=payload.percent,
        note=payload.note,
        files=uploaded_files(request),
    )
    return Status(201, report)
