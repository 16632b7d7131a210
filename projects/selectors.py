"""Reads about projects and nodes, always scoped to the user."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from core.templatetags.core_tags import cn_date
from organization.choices import CoverageTarget
from organization.models import Coverage, Unit, User

from .choices import DisposalMethod, ProjectStatus
from .models import DisposalLine, Enterprise, Node, Project

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


# ---- the project page: its history ---------------------------------------------------------


@dataclass(frozen=True)
class HistoryChange:
    """One field's change: its label, the old and the new value as a page writes them."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    """One saved change to a project or one of its disposal lines: who, when, old → new."""

    at: dt.datetime
    user: User | None
    subject: str  # what changed: the project, or a disposal line by its method
    kind: str  # "+" created, "~" changed, "-" deleted (django-simple-history's history_type)
    changes: tuple[HistoryChange, ...]
    reason: str


PROJECT_HISTORY_FIELDS = (
    "code",
    "name",
    "status",
    "locality_id",
    "enterprise_id",
    "leader_id",
    "start_date",
    "end_date",
)
LINE_HISTORY_FIELDS = ("method", "area_mu")


def project_history(*, project: Project) -> list[HistoryEntry]:
    """The project's change history and its disposal lines' (deleted ones too), newest first,
    each entry with the fields that changed; a fixed number of queries."""
    records = list(
        Project.history.filter(id=project.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    line_records = list(
        DisposalLine.history.filter(project_id=project.pk)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    names = _history_names(records)

    def show(field: str, value) -> str:
        if value is None or value == "":
            return ""
        if field == "status":
            return str(ProjectStatus(value).label) if value in ProjectStatus.values else value
        if field == "method":
            return str(DisposalMethod(value).label) if value in DisposalMethod.values else value
        if field == "area_mu":
            return _("%(area)s亩") % {"area": f"{Decimal(value).quantize(CENT)}"}
        if field in ("start_date", "end_date"):
            return cn_date(value)
        if field in names:
            return names[field].get(value, str(value))
        return str(value)

    entries = []
    label = {
        f.attname: str(f.verbose_name)
        for model in (Project, DisposalLine)
        for f in model._meta.concrete_fields
    }
    for kind, rows, fields in (
        ("project", records, PROJECT_HISTORY_FIELDS),
        ("line", line_records, LINE_HISTORY_FIELDS),
    ):
        previous = None
        for row in rows:
            if previous is not None and previous.id != row.id:
                previous = None
            if row.history_type == "~" and previous is not None:
                changed = [f for f in fields if getattr(previous, f) != getattr(row, f)]
                if not changed:
                    previous = row
                    continue
                changes = tuple(
                    HistoryChange(label[f], show(f, getattr(previous, f)), show(f, getattr(row, f)))
                    for f in changed
                )
            elif kind == "line":  # a line added or deleted: what it was
                shown = [f for f in fields if f != "method"]  # the subject names the method
                deleted = row.history_type == "-"
                changes = tuple(
                    HistoryChange(
                        label[f],
                        show(f, getattr(row, f)) if deleted else "",
                        "" if deleted else show(f, getattr(row, f)),
                    )
                    for f in shown
                )
            else:  # the project created: the page above shows what it is
                changes = ()
            if kind == "project":
                subject = str(_("项目"))
            else:
                subject = _("处置方式：%(method)s") % {"method": show("method", row.method)}
            entries.append(
                HistoryEntry(
                    at=row.history_date,
                    user=row.history_user,
                    subject=subject,
                    kind=row.history_type,
                    changes=changes,
                    reason=row.history_change_reason or "",
                )
            )
            previous = row
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _history_names(records) -> dict[str, dict[int, str]]:
    """How a page names the units, enterprises and people a project's history refers to."""
    ids = {
        f: {getattr(r, f) for r in records} - {None}
        for f in ("locality_id", "enterprise_id", "leader_id")
    }
    return {
        "locality_id": dict(
            Unit.objects.filter(pk__in=ids["locality_id"]).values_list("pk", "name")
        ),
        "enterprise_id": dict(
            Enterprise.objects.filter(pk__in=ids["enterprise_id"]).values_list("pk", "name")
        ),
        "leader_id": {u.pk: u.display_name for u in User.objects.filter(pk__in=ids["leader_id"])},
    }


@dataclass(frozen=True)
class CoveringLeader:
    """A leader who answers for a project (包保), and why: named on it, or covering it, its
    locality or its enterprise."""

    user: User
    roles: tuple[str, ...]


def project_covering_leaders(*, project: Project) -> list[CoveringLeader]:
    """Who answers for the project: its 包保领导 first, then the leaders covering the project,
    its locality or its enterprise, by name; one query."""
    covers = Q(project_id=project.pk) | Q(locality_id=project.locality_id)
    if project.enterprise_id:
        covers |= Q(enterprise_id=project.enterprise_id)
    roles: dict[int, list[str]] = {}
    people: dict[int, User] = {}
    if project.leader_id:
        people[project.leader_id] = project.leader
        roles[project.leader_id] = [str(_("项目包保领导"))]
    rows = Coverage.objects.filter(covers).select_related("leader").order_by("target", "pk")
    for row in rows:
        people.setdefault(row.leader_id, row.leader)
        label = {
            CoverageTarget.PROJECT: _("包保项目"),
            CoverageTarget.LOCALITY: _("包保%(locality)s") % {"locality": project.locality.name},
            CoverageTarget.ENTERPRISE: _("包保企业"),
        }[row.target]
        roles.setdefault(row.leader_id, []).append(str(label))
    ordered = sorted(people, key=lambda pk: (pk != project.leader_id, people[pk].display_name, pk))
    return [CoveringLeader(user=people[pk], roles=tuple(roles[pk])) for pk in ordered]
