"""The dashboard (总览): its figures over the user's scope, today or as they stood on a past day.

Every figure starts from the same scoped querysets as the API (`visible_to`), and each read
is one query whatever the data size: the rows come back as plain values and are counted
here. A past day is rebuilt from what the history keeps: the nodes' simple-history rows
(their dates, progress and completion as they stood at the end of that day), the cards
issued by then and not yet revoked, the recommitments waiting that evening, the supervision
items open, and for the early warning (rules.node_lagging) each node's last progress report
by then, its start from the previous node of that day and the rule in force on that day.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.translation import gettext_lazy as _

from core import clock
from projects.choices import DisposalMethod
from projects.models import DisposalLine, Node, ProgressReport, Project, WorkStream
from supervision import rules
from supervision.choices import CardKind, Light
from supervision.models import Card, Recommitment, SupervisionItem
from supervision.selectors import (
    escalation_policies_load,
    nodes_with_light,
    policy_in_force,
    sees_supervision_items,
)

CENT = Decimal("0.01")

# How long the open supervision items have been open: (label, from, to) in whole days.
ITEM_AGES = (
    (_("7天以内"), 0, 7),
    (_("8至30天"), 8, 30),
    (_("31至90天"), 31, 90),
    (_("超过90天"), 91, None),
)


# ---- the disposal table ------------------------------------------------------------------


@dataclass(frozen=True)
class DisposalRow:
    """One disposal method: how many projects carry it and the area it covers."""

    method: DisposalMethod
    projects: int
    area_mu: Decimal


@dataclass(frozen=True)
class DisposalTable:
    """The disposal table (处置方式): one row per method, and the distinct projects in total."""

    rows: list[DisposalRow]
    projects: int
    area_mu: Decimal


def _on_the_books(end: dt.datetime | None, prefix: str = "") -> Q:
    """Not archived now (`end` None), or not yet archived at `end`. Archiving is never undone,
    so an `archived_at` at or after the end of a day was not set yet that day."""
    if end is None:
        return Q(**{f"{prefix}archived_at__isnull": True})
    return Q(**{f"{prefix}archived_at__isnull": True}) | Q(**{f"{prefix}archived_at__gte": end})


def _node_on_the_books(end: dt.datetime | None, prefix: str = "") -> Q:
    """The node (reached through `prefix`) and its project both on the books now or at `end`:
    what the whole dashboard counts, its lights, cards, items and disposal table alike."""
    return _on_the_books(end, prefix) & _on_the_books(end, f"{prefix}project__")


def _land_projects(user, *, end: dt.datetime | None) -> QuerySet[Project]:
    """The land stream's projects the user may see (the only ones with disposal methods),
    on the books now or at `end`."""
    return (
        Project.objects.visible_to(user)
        .filter(work_stream__is_land=True)
        .filter(_on_the_books(end))
    )


def disposal_table(*, user, as_of: dt.date | None = None) -> DisposalTable:
    """Projects and mu per disposal method over the land stream's projects in the user's
    scope, and the distinct projects with their whole area; on `as_of`, the disposal lines
    as they stood at the end of that day. Archived projects are left out (on `as_of`, those
    archived by the end of that day). One query."""
    end = None if as_of is None else clock.end_of_day_instant(as_of)
    projects = _land_projects(user, end=end).values("pk")
    if end is None:
        lines = DisposalLine.objects.filter(project__in=projects)
    else:
        lines = _as_of_rows(DisposalLine.history.model, end).filter(project_id__in=projects)
    methods: dict[str, set[int]] = defaultdict(set)
    areas: dict[str, Decimal] = defaultdict(Decimal)
    for project_id, method, area in lines.values_list("project_id", "method", "area_mu"):
        methods[method].add(project_id)
        areas[method] += Decimal(area)
    rows = [
        DisposalRow(method, len(methods[method]), areas[method].quantize(CENT))
        for method in DisposalMethod
    ]
    everyone = set().union(*methods.values()) if methods else set()
    return DisposalTable(
        rows=rows,
        projects=len(everyone),
        area_mu=sum(areas.values(), Decimal("0")).quantize(CENT),
    )


def _as_of_rows(history_model, end: dt.datetime) -> QuerySet:
    """Each object's last history row saved before `end` (the state it was left in that
    day), leaving out the objects deleted by then: one query with a correlated subquery."""
    last = (
        history_model.objects.filter(id=OuterRef("id"), history_date__lt=end)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return (
        history_model.objects.filter(history_date__lt=end, history_id=Subquery(last))
        .exclude(history_type="-")
        .order_by()
    )


# ---- the counts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LightCount:
    light: Light
    count: int


@dataclass(frozen=True)
class WeekCount:
    """The cards dated in one week (Monday to Sunday)."""

    start: dt.date
    yellow: int
    red: int

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def total(self) -> int:
        return self.yellow + self.red


@dataclass(frozen=True)
class AgeCount:
    label: str
    low: int
    high: int | None
    count: int


@dataclass
class Breakdown:
    """The counts of one locality or one unit (`items_open` None where the user may not see
    the supervision items)."""

    id: int
    name: str
    lights: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Light.values, 0))
    yellow: int = 0
    red: int = 0
    items_open: int | None = 0
    oldest_days: int | None = None

    @property
    def nodes(self) -> int:
        return sum(self.lights.values())

    @property
    def light_counts(self) -> list[LightCount]:
        return [LightCount(light, self.lights[light.value]) for light in Light]

    def add_item(self, days: int) -> None:
        self.items_open += 1
        self.oldest_days = days if self.oldest_days is None else max(self.oldest_days, days)


@dataclass
class Dashboard:
    """Everything the dashboard shows, for one user, one day and possibly one work stream.
    The supervision item figures are None for whoever may not see the items (unit staff)."""

    as_of: dt.date
    live: bool
    work_stream: WorkStream | None
    disposal: DisposalTable | None
    lights: list[LightCount]
    year: int
    yellow: int
    red: int
    weeks: list[WeekCount]
    items_open: int | None
    items_oldest_days: int | None
    item_ages: list[AgeCount] | None
    by_locality: list[Breakdown]
    by_unit: list[Breakdown]

    @property
    def nodes(self) -> int:
        return sum(row.count for row in self.lights)

    @property
    def sees_items(self) -> bool:
        return self.items_open is not None

    @property
    def cards(self) -> int:
        return self.yellow + self.red

    @property
    def this_week(self) -> WeekCount | None:
        return self.weeks[-1] if self.weeks else None


@dataclass(frozen=True)
class _Place:
    """Where a node, card or item belongs: its unit and its project's locality."""

    unit_id: int
    unit_name: str
    locality_id: int
    locality_name: str


def _scoped_nodes(user, *, work_stream: WorkStream | None) -> QuerySet[Node]:
    nodes = Node.objects.visible_to(user)
    if work_stream is not None:
        nodes = nodes.filter(project__work_stream=work_stream)
    return nodes


class _NodeThen(NamedTuple):
    """A node as its history row left it at the end of a day, with the facts of its light."""

    id: int
    project_id: int
    seq: int
    due_date: dt.date
    committed_due_date: dt.date | None
    completed_at: dt.datetime | None
    progress: int
    created_at: dt.datetime
    project_start: dt.date | None
    in_scope: bool
    place: _Place


def _starts(nodes: list[_NodeThen]) -> dict[int, dt.date | None]:
    """Each node's previous node's planned date, among `nodes` (those on the books that day):
    the node of the next lower sequence number in its project (rules.node_lagging's start)."""
    by_project: dict[int, list[_NodeThen]] = defaultdict(list)
    for node in nodes:
        by_project[node.project_id].append(node)
    previous: dict[int, dt.date | None] = {}
    for siblings in by_project.values():
        before, seq, last = None, None, None
        for node in sorted(siblings, key=lambda n: (n.seq, n.id)):
            if node.seq != seq:
                before, seq = last, node.seq
            previous[node.id] = before
            last = node.due_date
    return previous


def _node_rows(
    user, *, day: dt.date, live: bool, work_stream: WorkStream | None
) -> list[tuple[Light, _Place]]:
    """Each node in scope that was on the books at the end of `day` (not archived), with its
    light then and its place: one query for today's lights, five for a past day's."""
    place = ("unit_id", "unit__name", "project__locality_id", "project__locality__name")
    if live:
        nodes = nodes_with_light(
            _scoped_nodes(user, work_stream=work_stream).filter(_node_on_the_books(None)),
            today=day,
        ).order_by()
        # The pk keeps two alike nodes apart where visible_to makes the query DISTINCT.
        return [
            (Light(light), _Place(*rest))
            for _pk, light, *rest in nodes.values_list("pk", "light", *place)
        ]

    end = clock.end_of_day_instant(day)
    scoped = _scoped_nodes(user, work_stream=work_stream)
    # Every node of the projects in scope, whoever's: the one before a node sets its start.
    project_start = Project.history.model.objects.filter(
        id=OuterRef("project_id"), history_date__lt=end
    ).order_by("-history_date", "-history_id")
    history = (
        _as_of_rows(Node.history.model, end)
        .filter(_node_on_the_books(end), project_id__in=scoped.values("project_id"))
        .annotate(
            in_scope=ExpressionWrapper(Q(id__in=scoped.values("pk")), output_field=BooleanField()),
            project_start=Subquery(project_start.values("start_date")[:1]),
        )
    )
    facts = _NodeThen._fields[:-1]
    nodes = [
        _NodeThen(*row[: len(facts)], _Place(*row[len(facts) :]))
        for row in history.values_list(*facts, *place)
    ]
    cards = _cards_on(user, end=end, work_stream=work_stream)
    kinds: dict[int, str] = {}
    for node_id, kind in cards.values_list("node_id", "kind"):
        if kind == CardKind.RED or node_id not in kinds:
            kinds[node_id] = kind
    pending = set(
        Recommitment.objects.visible_to(user)
        .filter(Q(decided_at__isnull=True) | Q(decided_at__gte=end), submitted_at__lt=end)
        .values_list("node_id", flat=True)
    )
    last_reports = dict(
        ProgressReport.objects.filter(node_id__in=scoped.values("pk"), created_at__lt=end)
        .values("node_id")
        .annotate(last=Max("created_at"))
        .values_list("node_id", "last")
        .order_by()
    )
    policy = policy_in_force(escalation_policies_load(), day)
    previous_due = _starts(nodes)
    rows = []
    for node in nodes:
        if not node.in_scope:
            continue
        completed = node.completed_at is not None and node.completed_at < end
        due = node.committed_due_date or node.due_date
        created_on = clock.local_date(node.created_at)
        last_report = last_reports.get(node.id)
        lagging = not completed and rules.node_lagging(
            start=previous_due[node.id] or node.project_start or created_on,
            created_on=created_on,
            due=due,
            today=day,
            progress=node.progress,
            last_report_on=clock.local_date(last_report) if last_report else None,
            policy=policy,
        )
        light = rules.node_light(
            completed=completed,
            card_kind=kinds.get(node.id),
            pending_recommitment=node.id in pending,
            effective_due_date=due,
            today=day,
            lagging=lagging,
        )
        rows.append((light, node.place))
    return rows


def _cards_on(user, *, end: dt.datetime | None, work_stream: WorkStream | None) -> QuerySet[Card]:
    """The cards in force at `end` (issued before it and not revoked by then), or now, on
    nodes on the books then."""
    cards = Card.objects.visible_to(user).filter(_node_on_the_books(end, "node__"))
    if end is None:
        cards = cards.filter(revoked_at__isnull=True)
    else:
        cards = cards.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gte=end), issued_at__lt=end)
    if work_stream is not None:
        cards = cards.filter(node__project__work_stream=work_stream)
    return cards.order_by()


def _items_on(
    user, *, end: dt.datetime | None, work_stream: WorkStream | None
) -> QuerySet[SupervisionItem]:
    """The supervision items open at `end` (opened before it and not closed by then), or now,
    on nodes on the books then."""
    items = SupervisionItem.objects.visible_to(user).filter(_node_on_the_books(end, "node__"))
    if end is None:
        items = items.filter(closed_at__isnull=True)
    else:
        items = items.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end), opened_at__lt=end)
    if work_stream is not None:
        items = items.filter(node__project__work_stream=work_stream)
    return items.order_by()


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week `day` falls in."""
    return day - dt.timedelta(days=day.weekday())


def dashboard(
    *, user, as_of: dt.date | None = None, work_stream: WorkStream | None = None
) -> Dashboard:
    """The dashboard for `user`: node lights, this year's cards week by week, the open
    supervision items and how long they have been open, the same by locality and by unit,
    and the land stream's disposal table; today's, or as it stood at the end of `as_of`.
    Archived nodes and the nodes of archived projects (on `as_of`, archived by the end of
    that day) count nowhere. Whoever may not see the supervision items (unit staff, as the
    item list refuses them) gets no item figure: those are None and not read.
    A fixed number of queries whatever the data size (four today, eight for a past day)."""
    today = clock.today()
    live = as_of is None or as_of >= today
    day = today if live else as_of
    end = None if live else clock.end_of_day_instant(day)
    place = (
        "unit_id",
        "unit__name",
        "node__project__locality_id",
        "node__project__locality__name",
    )
    by_locality: dict[int, Breakdown] = {}
    by_unit: dict[int, Breakdown] = {}

    def rows_of(where: _Place) -> tuple[Breakdown, Breakdown]:
        unit = by_unit.setdefault(where.unit_id, Breakdown(where.unit_id, where.unit_name))
        locality = by_locality.setdefault(
            where.locality_id, Breakdown(where.locality_id, where.locality_name)
        )
        return locality, unit

    # Lights.
    lights = dict.fromkeys(Light.values, 0)
    for light, where in _node_rows(user, day=day, live=live, work_stream=work_stream):
        lights[light.value] += 1
        for row in rows_of(where):
            row.lights[light.value] += 1

    # Cards dated this year (their breach instant), week by week up to `day`.
    first = dt.date(day.year, 1, 1)
    weeks: dict[dt.date, dict[str, int]] = {}
    monday = week_start(first)
    while monday <= day:
        weeks[monday] = {CardKind.YELLOW.value: 0, CardKind.RED.value: 0}
        monday += dt.timedelta(days=7)
    cards = _cards_on(user, end=end, work_stream=work_stream).filter(
        breached_at__gte=clock.start_of_day(first)
    )
    totals = {CardKind.YELLOW.value: 0, CardKind.RED.value: 0}
    for kind, breached_at, *rest in cards.values_list("kind", "breached_at", *place):
        dated = clock.local_date(breached_at)
        if not first <= dated <= day:
            continue
        totals[kind] += 1
        weeks[week_start(dated)][kind] += 1
        for row in rows_of(_Place(*rest)):
            setattr(row, kind, getattr(row, kind) + 1)

    # Supervision items open at the end of the day, by how long they have been open.
    sees_items = sees_supervision_items(user=user)
    ages = []
    if sees_items:
        for opened_at, *rest in _items_on(user, end=end, work_stream=work_stream).values_list(
            "opened_at", *place
        ):
            days = (day - clock.local_date(opened_at)).days
            ages.append(days)
            for row in rows_of(_Place(*rest)):
                row.add_item(days)
    else:
        for row in (*by_locality.values(), *by_unit.values()):
            row.items_open = None

    if work_stream is None or work_stream.is_land:
        disposal = disposal_table(user=user, as_of=None if live else day)
    else:
        disposal = None
    return Dashboard(
        as_of=day,
        live=live,
        work_stream=work_stream,
        disposal=disposal,
        lights=[LightCount(light, lights[light.value]) for light in Light],
        year=day.year,
        yellow=totals[CardKind.YELLOW.value],
        red=totals[CardKind.RED.value],
        weeks=[
            WeekCount(start, counts[CardKind.YELLOW.value], counts[CardKind.RED.value])
            for start, counts in weeks.items()
        ],
        items_open=len(ages) if sees_items else None,
        items_oldest_days=max(ages) if ages else None,
        item_ages=[
            AgeCount(
                str(label),
                low,
                high,
                sum(1 for d in ages if d >= low and (high is None or d <= high)),
            )
            for label, low, high in ITEM_AGES
        ]
        if sees_items
        else None,
        by_locality=sorted(by_locality.values(), key=lambda row: row.name),
        by_unit=sorted(by_unit.values(), key=lambda row: row.name),
    )


# ---- the node list -------------------------------------------------------------------------


def node_list_with_light(*, user, light: bool = True) -> QuerySet[Node]:
    """The nodes the user may see that are on the books (not archived), each with its light
    and card, in wall-chart order: what the dashboard's counts link to. Without them when
    `light` is False (a page shown unfiltered works them out for its rows alone:
    supervision.selectors.nodes_light_decorate)."""
    nodes = Node.objects.visible_to(user).filter(
        archived_at__isnull=True, project__archived_at__isnull=True
    )
    return (
        (nodes_with_light(nodes, today=clock.today()) if light else nodes)
        .select_related("project__locality", "project__work_stream", "unit")
        .order_by("project__code", "seq", "pk")
    )
