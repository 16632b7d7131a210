"""Reads about projects and nodes, always scoped to the user."""

from decimal import Decimal

from django.db.models import Count, Q, Sum

from .models import DisposalLine, Node, Project

CENT = Decimal("0.01")


def project_list(*, user):
    """Projects the user may see, with their node counts, in code order."""
    return (
        Project.objects.visible_to(user)
        .select_related("locality", "enterprise")
        .prefetch_related("disposal_lines")
        .annotate(
            node_count=Count("nodes", distinct=True),
            done_count=Count("nodes", filter=Q(nodes__completed_at__isnull=False), distinct=True),
        )
        .order_by("code")
    )


def node_list(*, user):
    """Nodes the user may see."""
    return Node.objects.visible_to(user).select_related("project", "unit")


def disposal_summary():
    """The disposal table: projects and area per method, and the distinct totals."""
    rows = list(
        DisposalLine.objects.values("method")
        .annotate(projects=Count("project", distinct=True), area=Sum("area_mu"))
        .order_by("method")
    )
    totals = DisposalLine.objects.aggregate(
        projects=Count("project", distinct=True), area=Sum("area_mu")
    )
    # SQLite sums decimals as floats: bring every area back to two places.
    for row in [*rows, totals]:
        row["area"] = (row["area"] or Decimal("0")).quantize(CENT)
    return rows, totals
