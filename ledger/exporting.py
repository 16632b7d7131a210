"""The ledger (台账) written out in exactly the import's columns, so that importing it changes
nothing: the same projects, disposal lines and nodes, read back to the same values.

Each cell is written as ledger.parsing reads it back:

- 处置方式 and 面积(亩): the method names joined by "+", and their areas in the same order
  (one area as a number, several as "56.30+12.00"); blank off the land stream.
- 计划完成日期, 完成日期: dates (the completion as the county's local day of completion).
- 责任单位, 乡镇园区: the units' names, by which the import finds them.
- 包保领导: the leader's full name when the import finds exactly that person by it (no
  other active user bears it as a name or username), else the username; blank when the
  leader no longer signs in (an inactive user would be taken for a new person).
- 专项: the stream's name.
- Text a spreadsheet would read as a formula (=, +, -, @) is neutralised by core.tabular;
  the import takes the apostrophe off again.

A project without nodes has no row (the ledger is a row per node). Archived projects are
left out, as on the project list.

Cost: three queries whatever the size (the leaders' names, the disposal lines, and the
nodes streamed in one query, a chunk at a time), the filters being subqueries of them.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from core import clock
from organization.models import User
from projects.models import DisposalLine, Node, Project
from supervision.filters import ProjectFilter

from .importing import USERNAME_LIKE
from .parsing import COLUMNS, NAME_BY_METHOD

HEADER = COLUMNS
CHUNK = 500  # nodes fetched at a time from the one streamed query


def ledger_projects(*, user=None, data: dict | None = None) -> QuerySet[Project] | None:
    """The projects the project list shows `user` with the filters in `data` (its query
    string); None when a filter is not valid. No user: the whole county (the command line)."""
    projects = Project.objects.visible_to(user) if user is not None else Project.objects.all()
    filters = ProjectFilter(
        data or {},
        queryset=projects.filter(archived_at__isnull=True),
        user=user,
    )
    if not filters.is_valid():
        return None
    return filters.qs


def ledger_filename(today: dt.date | None = None) -> str:
    return f"台账-{(today or clock.today()).isoformat()}"


def ledger_rows(projects: QuerySet[Project]) -> Iterator[list[Any]]:
    """The ledger's rows (a row per node, in project code and node order) of `projects`."""
    ids = projects.values("pk")
    leader_names = _leader_names(ids)
    lines: dict[int, list[DisposalLine]] = {}
    for line in DisposalLine.objects.filter(project__in=ids).order_by("project_id", "pk"):
        lines.setdefault(line.project_id, []).append(line)
    nodes = (
        Node.objects.filter(project__in=ids)
        .select_related(
            "project__locality",
            "project__enterprise",
            "project__work_stream",
            "unit",
        )
        .order_by("project__code", "seq", "pk")
    )
    for node in nodes.iterator(chunk_size=CHUNK):
        project = node.project
        methods, areas = _disposal(lines.get(project.pk, []))
        yield [
            project.code,
            project.name,
            project.locality.name,
            project.enterprise.name if project.enterprise_id else None,
            methods,
            areas,
            node.seq,
            node.name,
            node.unit.name,
            node.due_date,
            clock.local_date(node.completed_at) if node.completed_at else None,
            node.owner or None,
            leader_names.get(project.leader_id),
            project.work_stream.name,
        ]


def _disposal(lines: list[DisposalLine]) -> tuple[str | None, Decimal | str | None]:
    if not lines:
        return None, None
    methods = "+".join(NAME_BY_METHOD[line.method] for line in lines)
    if len(lines) == 1:
        return methods, lines[0].area_mu
    return methods, "+".join(f"{line.area_mu:.2f}" for line in lines)


def _leader_names(project_ids: QuerySet) -> dict[int, str]:
    """What the 包保领导 cell says for each leader of these projects (see the module)."""
    led = Project.objects.filter(pk__in=project_ids, leader__isnull=False)
    full_names = led.values("leader__full_name")
    leader_ids = led.values("leader_id")
    users = list(
        User.objects.filter(
            Q(pk__in=leader_ids)
            | Q(is_active=True, full_name__in=full_names)
            | Q(is_active=True, username__in=full_names)
        ).values_list("pk", "username", "full_name", "is_active")
    )
    leaders = {pk: (username, full_name, active) for pk, username, full_name, active in users}
    names = {}
    for pk, (username, full_name, active) in leaders.items():
        if not active:
            continue
        names[pk] = full_name if _names_only(pk, full_name, users) else username
    return names


def _names_only(pk: int, full_name: str, users: list) -> bool:
    """Whether the import reads `full_name` as exactly this user (importing._Plan.leader)."""
    if not full_name or USERNAME_LIKE.fullmatch(full_name):
        return False
    active = [u for u in users if u[3]]
    if any(u[1] == full_name for u in active):
        return False  # a username comes first
    bearers = [u[0] for u in active if u[2] == full_name]
    return bearers == [pk]
