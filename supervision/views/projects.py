"""Projects: the list with filters and the project page, scoped like the API."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from organization.permissions import Action, may
from organization.selectors import user_scope
from projects.models import Node, Project
from projects.selectors import project_covering_leaders, project_history

from ..filters import ProjectFilter
from ..selectors import archive_reason, nodes_with_card, project_list_with_counts

PAGE_SIZE = 30


def project_list(request):
    """The projects the signed-in user may see (not the archived ones), filtered by the URL's
    query, a page at a time."""
    filters = ProjectFilter(
        request.GET or None,
        queryset=project_list_with_counts(user=request.user).filter(archived_at__isnull=True),
        user=request.user,
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/list.html",
        {
            "projects": page,
            "filters": filters,
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            # The ledger is the office's: it imports it, and exports it with these filters.
            "may_export_ledger": may(request.user, Action.PLAN),
            "nav_active": "projects",
        },
    )


def project_detail(request, code: str):
    """One project in the user's scope: its disposal lines, enterprise, locality, covering
    leaders, the nodes the user may see with their lights, and its change history.

    Staff see their own units' nodes first; when the project has other nodes they may see
    (as a leader or covering it, too), ?all=1 shows those as well."""
    user = request.user
    project = get_object_or_404(
        Project.objects.visible_to(user)
        .select_related("locality", "enterprise", "leader", "archived_by")
        .prefetch_related("disposal_lines"),
        code=code,
    )
    nodes = list(
        nodes_with_card(Node.objects.visible_to(user).filter(project=project))
        .select_related("unit")
        .order_by("seq", "pk")
    )
    own_units = user_scope(user=user).staff_unit_ids
    show_all = request.GET.get("all") == "1"
    own = [n for n in nodes if n.unit_id in own_units]
    # The toggle only when it changes something: some, but not all, visible nodes are theirs.
    toggle = bool(own_units) and 0 < len(own) < len(nodes)
    shown = own if toggle and not show_all else nodes
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "archive_reason": archive_reason(project),
            "lines": list(project.disposal_lines.all()),
            "leaders": project_covering_leaders(project=project),
            "nodes": shown,
            "node_total": len(nodes),
            "toggle": toggle,
            # Staff who see only their own units' nodes are told so.
            "own_only": bool(own_units) and bool(nodes) and len(own) == len(nodes),
            "show_all": show_all,
            "history": project_history(project=project),
            "nav_active": "projects",
        },
    )
