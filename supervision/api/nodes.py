"""REST endpoints for projects and nodes as the wall chart shows them: with their cards, and completion."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from core.api.multipart import JsonOrMultipart, multipart_openapi, uploaded_files
from core.api.pagination import ListParams, page_of, paginate
from core.api.schemas import READ_ERRORS, WRITE_ERRORS, Instant, Text, decimal2
from projects.selectors import node_list

from ..choices import CardKind, Light
from ..selectors import node_list_with_card, nodes_light_decorate, project_list_with_nodes
from ..services import node_complete

router = Router(tags=["项目与节点"])


class NodeOut(Schema):
    id: int
    project: str
    seq: int
    name: str
    unit: str
    owner: str
    due_date: dt.date
    committed_due_date: dt.date | None
    completed_at: Instant | None
    progress: int
    card: CardKind | None
    light: Light = Field(
        description=(
            "The node's status light, as the pages show it: the first that applies of done, "
            "red, awaiting_approval, yellow, lagging (序时进度预警: progress more than the "
            "rule's points behind the share of its time used, or no report for the rule's "
            "days while due within its horizon), due_soon (due within 3 days) and on_track."
        )
    )

    @staticmethod
    def resolve_project(obj) -> str:
        return obj.project.code

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_card(obj) -> str | None:
        return obj.card_kind


# The columns a page of NodeOut reads, and those its light is worked out from
# (nodes_light_decorate): a page of the list loads no others.
NODE_OUT_COLUMNS = (
    *("id", "seq", "name", "owner", "due_date", "committed_due_date", "completed_at"),
    *("progress", "created_at", "project", "project__code", "project__start_date"),
    *("unit", "unit__name"),
)


class MethodOut(Schema):
    method: str
    label: str
    area_mu: str

    @staticmethod
    def resolve_label(obj) -> str:
        return str(obj.get_method_display())

    @staticmethod
    def resolve_area_mu(obj) -> str:
        return decimal2(obj.area_mu)


class ProjectOut(Schema):
    code: str
    name: str
    locality: str
    methods: list[MethodOut]
    area_mu: str
    nodes: list[NodeOut]

    @staticmethod
    def resolve_locality(obj) -> str:
        return obj.locality.name

    @staticmethod
    def resolve_methods(obj) -> list:
        return list(obj.disposal_lines.all())

    @staticmethod
    def resolve_area_mu(obj) -> str:
        return decimal2(obj.area_mu)

    @staticmethod
    def resolve_nodes(obj) -> list:
        return obj.visible_nodes


class NodeFilters(ListParams):
    project: str | None = None
    unit: str | None = None
    card: CardKind | None = None
    light: Light | None = None
    work_stream: str | None = Field(None, description="专项代码，如 land")


class ProjectFilters(ListParams):
    work_stream: str | None = Field(None, description="专项代码，如 land")


class CompleteIn(Schema):
    note: Text = ""


@router.get("projects/", response={200: page_of(ProjectOut), **READ_ERRORS})
def projects_list(request, params: Query[ProjectFilters]):
    """Projects in the caller's scope, each with the nodes the caller may see; archived
    projects are left out (their detail still answers); filter by work stream code."""
    projects = project_list_with_nodes(
        user=request.auth, archived=False, work_stream=params.work_stream
    )
    return paginate(projects, params)


@router.get("projects/{code}/", response={200: ProjectOut, **READ_ERRORS})
def projects_detail(request, code: str):
    """One project in the caller's scope, by its county code."""
    return get_object_or_404(project_list_with_nodes(user=request.auth), code=code)


@router.get("nodes/", response={200: page_of(NodeOut), **READ_ERRORS})
def nodes_list(request, filters: Query[NodeFilters]):
    """Nodes in the caller's scope with their highest unrevoked card and their light; filter by
    project code, unit name, card, light or work stream code."""
    nodes = node_list_with_card(
        user=request.auth,
        project=filters.project,
        unit=filters.unit,
        card=filters.card,
        light=filters.light,
        work_stream=filters.work_stream,
        per_page=True,
    ).only(*NODE_OUT_COLUMNS)
    return paginate(nodes, filters, rows_decorate=nodes_light_decorate)


@router.post(
    "nodes/{int:node_id}/complete/",
    response={200: NodeOut, **WRITE_ERRORS},
    openapi_extra=multipart_openapi(
        "CompleteIn", description="办结佐证材料（照片、PDF、Office文档）"
    ),
)
def nodes_complete(request, node_id: int, payload: CompleteIn | None = JsonOrMultipart(None)):
    """Staff of the node's unit mark it done now (办结).

    JSON, or multipart/form-data with `note` and evidence files under `files` (each
    checked by size and content; one refused file refuses the completion: 400).
    """
    node = get_object_or_404(node_list(user=request.auth), pk=node_id)
    node_complete(
        node=node,
        actor=request.auth,
        note=payload.note if payload else "",
        files=uploaded_files(request),
    )
    return node_list_with_card(user=request.auth).get(pk=node.pk)
