"""Reads about projects and nodes, always scoped to the user."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from organization.models import Unit

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


# The node's fields whose changes its page lists (who, when, old → new).
NODE_HISTORY_FIELDS = (
    "name",
    "unit",
    "owner",
    "due_date",
    "committed_due_date",
    "completed_at",
    "progress",
)


@dataclass(frozen=True)
class FieldChange:
    """One field of one saved change: its label and the values before and after."""

    field: str
    label: str
    old: object
    new: object


@dataclass(frozen=True)
class NodeChange:
    """One save of a node in its history (django-simple-history): who, when, why, what changed."""

    at: dt.datetime
    user: object
    reason: str
    created: bool
    changes: tuple[FieldChange, ...]


def node_change_history(*, node: Node) -> list[NodeChange]:
    """The node's change history, newest first: each save that changed a listed field, with
    old → new (a unit by its name). Three queries, whatever the length."""
    records = list(node.history.select_related("history_user").order_by("history_id"))
    unit_ids = {r.unit_id for r in records if r.unit_id}
    units = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    labels = {f: str(Node._meta.get_field(f).verbose_name) for f in NODE_HISTORY_FIELDS}

    def value(record, name):
        if name == "unit":
            return units.get(record.unit_id, record.unit_id)
        return getattr(record, name)

    out = []
    previous = None
    for record in records:
        if previous is None:
            changes = tuple(
                FieldChange(f, labels[f], None, value(record, f)) for f in ("due_date", "unit")
            )
        else:
            changes = tuple(
                FieldChange(f, labels[f], value(previous, f), value(record, f))
                for f in NODE_HISTORY_FIELDS
                if value(previous, f) != value(record, f)
            )
        if previous is None or changes:
            out.append(
                NodeChange(
                    at=record.history_date,
                    user=record.history_user,
                    reason=record.history_change_reason or "",
                    created=previous is None,
                    changes=changes,
                )
            )
        previous = record
    out.reverse()
    return out
