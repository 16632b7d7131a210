"""The dashboard (总览): its figures over the user's scope, today or as they stood on a past day.

Every figure starts from the same scoped querysets as the API (`visible_to`), and each read
is one query whatever the data size. Today's figures are counted by the database: it answers
one row per (light, unit, locality) for the nodes, per (kind, week, unit, locality) for this
year's cards, per (age band, unit, locality) for the open supervision items, and one row for
the disposal table, so the rows fetched grow with the units and localities, not with the
nodes. Where a `visible_to` queryset is DISTINCT (or a UNION), the grouped read runs over
its pks (a subquery), so that no join of the scope can double a row nor DISTINCT fold two.

A past day is rebuilt from what the history keeps: the nodes' simple-history rows (their
dates, progress and completion as they stood at the end of that day), the cards issued by
then and not yet revoked, the recommitments waiting that evening, the supervision items
open, and for the early warning (rules.node_lagging) each node's last progress report by
then, its start from the previous node of that day and the rule in force on that day. Those
node lights are worked out here, node by node; the cards, items and disposal table of a past
day are counted by the database as today's are.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
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
    archived by the end of that day). One query, answering one row."""
    end = None if as_of is None else clock.end_of_day_instant(as_of)
    projects = _land_projects(user, end=end).values("pk")
    if end is None:
        lines = DisposalLine.objects.filter(project__in=projects)
    else:
        lines = _as_of_rows(DisposalLine.history.model, end).filter(project_id__in=projects)
    # One row: per method its distinct projects and its area, and the same over every line.
    area = DecimalField(max_digits=20, decimal_places=2)
    counts = {}
    for method in DisposalMethod:
        counts[f"{method.value}_projects"] = Count(
            "project_id", distinct=True, filter=Q(method=method.value)
        )
        counts[f"{method.value}_area"] = Sum(
            "area_mu", filter=Q(method=method.value), output_field=area
        )
    totals = lines.order_by().aggregate(
        **counts,
        all_projects=Count("project_id", distinct=True),
        all_area=Sum("area_mu", output_field=area),
    )

    def mu(value) -> Decimal:
        return Decimal(value or 0).quantize(CENT)

    return DisposalTable(
        rows=[
            DisposalRow(
                method, totals[f"{method.value}_projects"], mu(totals[f"{method.value}_area"])
            )
            for method in DisposalMethod
        ],
        projects=totals["all_projects"],
        area_mu=mu(totals["all_area"]),
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

    def add_items(self, n: int, oldest_days: int) -> None:
        self.items_open += n
        self.oldest_days = (
            oldest_days if self.oldest_days is None else max(self.oldest_days, oldest_days)
        )


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


def _groupable(queryset: QuerySet) -> QuerySet:
    """`queryset` (scoped with visible_to) in a shape that a GROUP BY counts right. A scope
    that is DISTINCT (its joins may repeat a row) or combined (a UNION of id sets) is read
    as the model's rows whose pk is among its pks, so that no join can double a row and no
    DISTINCT fold two alike rows into one; any other scope (the whole table for the
    county-wide roles, a filter on ids) has no repeated row and is grouped as it is."""
    query = queryset.query
    if query.distinct or query.combinator:
        return queryset.model.objects.filter(pk__in=queryset.order_by().values("pk"))
    return queryset.order_by()


_PLACE = ("unit_id", "unit__name", "project__locality_id", "project__locality__name")


def _light_counts(
    user, *, day: dt.date, live: bool, work_stream: WorkStream | None
) -> list[tuple[Light, _Place, int]]:
    """How many nodes in scope, on the books at the end of `day` (not archived), had each
    light, by place: today's counted by the database (one query, a row per light, unit and
    locality); a past day's rebuilt from the history here (five queries)."""
    if live:
        nodes = _groupable(
            _scoped_nodes(user, work_stream=work_stream).filter(_node_on_the_books(None))
        )
        groups = (
            nodes_with_light(nodes, today=day)
            .values("light", *_PLACE)
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("light", *_PLACE, "n")
        )
        return [(Light(light), _Place(*rest), n) for light, *rest, n in groups]
    counts: dict[tuple[Light, _Place], int] = defaultdict(int)
    for light, where in _node_rows_then(user, day=day, work_stream=work_stream):
        counts[light, where] += 1
    return [(light, where, n) for (light, where), n in counts.items()]


def _node_rows_then(
    user, *, day: dt.date, work_stream: WorkStream | None
) -> list[tuple[Light, _Place]]:
    """Each node in scope that was on the books at the end of past `day`, with its light then
    and its place, rebuilt from the history: five queries."""
    place = _PLACE
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


# Where a card or an item belongs: its own unit and its node's project's locality.
_ROW_PLACE = (
    "unit_id",
    "unit__name",
    "node__project__locality_id",
    "node__project__locality__name",
)


def _card_counts(
    user, *, first: dt.date, day: dt.date, end: dt.datetime | None, work_stream: WorkStream | None
) -> list[tuple[str, dt.date, _Place, int]]:
    """The cards in force at the end of `day` (or now) dated (their breach instant, local
    time) from `first` to `day`, counted by the database per kind, week (its Monday), unit
    and locality: one query."""
    cards = _groupable(_cards_on(user, end=end, work_stream=work_stream)).filter(
        breached_at__gte=clock.start_of_day(first),
        breached_at__lt=clock.end_of_day_instant(day),
    )
    groups = (
        cards.annotate(
            week=TruncWeek("breached_at", tzinfo=clock.local_tz(), output_field=DateField())
        )
        .values("kind", "week", *_ROW_PLACE)
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("kind", "week", *_ROW_PLACE, "n")
    )
    return [(kind, week, _Place(*rest), n) for kind, week, *rest, n in groups]


def _item_counts(
    user, *, day: dt.date, end: dt.datetime | None, work_stream: WorkStream | None
) -> list[tuple[int | None, _Place, int, int]]:
    """The supervision items open at the end of `day` (or now), counted by the database per
    age band (the index in ITEM_AGES of how many whole days they have been open on `day`,
    None outside every band), unit and locality, with the days the oldest of each has been
    open: one query."""
    bands = []
    for i, (_label, low, high) in enumerate(ITEM_AGES):
        # Open `days` in low..high: opened on a local date from day - high to day - low.
        since = (
            Q()
            if high is None
            else Q(opened_at__gte=clock.start_of_day(day - dt.timedelta(days=high)))
        )
        bands.append(
            When(
                since & Q(opened_at__lt=clock.end_of_day_instant(day - dt.timedelta(days=low))),
                then=Value(i),
            )
        )
    items = _groupable(_items_on(user, end=end, work_stream=work_stream))
    groups = (
        items.annotate(band=Case(*bands, default=Value(None), output_field=IntegerField()))
        .values("band", *_ROW_PLACE)
        .annotate(n=Count("pk"), first_opened=Min("opened_at"))
        .order_by()
        .values_list("band", *_ROW_PLACE, "n", "first_opened")
    )
    return [
        (band, _Place(*rest), n, (day - clock.local_date(first_opened)).days)
        for band, *rest, n, first_opened in groups
    ]


def dashboard(
    *, user, as_of: dt.date | None = None, work_stream: WorkStream | None = None
) -> Dashboard:
    """The dashboard for `user`: node lights, this year's cards week by week, the open
    supervision items and how long they have been open, the same by locality and by unit,
    and the land stream's disposal table; today's, or as it stood at the end of `as_of`.
    Archived nodes and the nodes of archived projects (on `as_of`, archived by the end of
    that day) count nowhere. Whoever may not see the supervision items (unit staff, as the
    item list refuses them) gets no item figure: those are None and not read.
    A fixed number of queries whatever the data size (four today, eight for a past day, one
    fewer for whoever reads no items); today's reads answer a row per group, not per node."""
    today = clock.today()
    live = as_of is None or as_of >= today
    day = today if live else as_of
    end = None if live else clock.end_of_day_instant(day)
    by_locality: dict[int, Breakdown] = {}
    by_unit: dict[int, Breakdown] = {}

    def rows_of(where: _Place) -> tuple[Breakdown, Breakdown]:
        # A row per (unit, locality) pair comes back: build each Breakdown once only.
        unit = by_unit.get(where.unit_id)
        if unit is None:
            unit = by_unit[where.unit_id] = Breakdown(where.unit_id, where.unit_name)
        locality = by_locality.get(where.locality_id)
        if locality is None:
            locality = by_locality[where.locality_id] = Breakdown(
                where.locality_id, where.locality_name
            )
        return locality, unit

    # Lights.
    lights = dict.fromkeys(Light.values, 0)
    for light, where, n in _light_counts(user, day=day, live=live, work_stream=work_stream):
        lights[light.value] += n
        for row in rows_of(where):
            row.lights[light.value] += n

    # Cards dated this year (their breach instant), week by week up to `day`.
    first = dt.date(day.year, 1, 1)
    weeks: dict[dt.date, dict[str, int]] = {}
    monday = week_start(first)
    while monday <= day:
        weeks[monday] = {CardKind.YELLOW.value: 0, CardKind.RED.value: 0}
        monday += dt.timedelta(days=7)
    totals = {CardKind.YELLOW.value: 0, CardKind.RED.value: 0}
    for kind, monday, where, n in _card_counts(
        user, first=first, day=day, end=end, work_stream=work_stream
    ):
        totals[kind] += n
        weeks[monday][kind] += n
        for row in rows_of(where):
            setattr(row, kind, getattr(row, kind) + n)

    # Supervision items open at the end of the day, by how long they have been open.
    sees_items = sees_supervision_items(user=user)
    ages = [0] * len(ITEM_AGES)
    items_open, items_oldest = 0, None
    if sees_items:
        for age, where, n, oldest in _item_counts(user, day=day, end=end, work_stream=work_stream):
            if age is not None:
                ages[age] += n
            items_open += n
            items_oldest = oldest if items_oldest is None else max(items_oldest, oldest)
            for row in rows_of(where):
                row.add_items(n, oldest)
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
        items_open=items_open if sees_items else None,
        items_oldest_days=items_oldest,
        item_ages=[
            AgeCount(str(label), low, high, ages[i])
            for i, (label, low, high) in enumerate(ITEM_AGES)
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
