"""Reads about cards, recommitments, supervision items and notifications, scoped to the user."""

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core import clock
from organization.choices import CoverageTarget
from organization.models import Coverage
from organization.selectors import user_scope
from projects.choices import NodeEventKind
from projects.models import (
    Node,
    NodeEvent,
    ProgressAttachment,
    ProgressReport,
    Project,
    covered_project_ids,
)
from scoring.models import RuleVersion

from . import rules
from .calendar import WorkingCalendar
from .choices import CardKind, ItemStatus, Light, RecommitmentStatus, TodoAction
from .models import (
    Card,
    InspectionAttachment,
    InspectionRecord,
    Notification,
    Recommitment,
    SupervisionItem,
)
from .rules import EscalationPolicy


def notification_unread_count(*, user) -> int:
    """How many in-app notifications the user has not read."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


class _DayNumber(Func):
    """A date as a whole number of days since 1970-01-01, so that the database counts days
    between dates with integer arithmetic the same way on SQLite and PostgreSQL."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL: date - date is days
        return super().as_sql(
            compiler, connection, template="(%(expressions)s - DATE '1970-01-01')", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)",
            **extra_context,
        )


_EPOCH = dt.date(1970, 1, 1)


def _threshold(field: str, today: dt.date):
    """A threshold of the rule version in force on `today`, read inside the query (before the
    first version, the first; the default when no rule has been entered), as rules.policy_on."""
    versions = RuleVersion.objects.order_by()
    in_force = versions.filter(effective_from__lte=today).order_by("-effective_from")
    return Coalesce(
        Subquery(in_force.values(field)[:1]),
        Subquery(versions.order_by("effective_from").values(field)[:1]),
        Value(getattr(EscalationPolicy(version_id=None, effective_from=today), field)),
        output_field=IntegerField(),
    )


def _lag_facts(today: dt.date) -> dict:
    """The facts of the early warning as query expressions (see rules.node_lagging): the
    node's start, the day it was created and the day of its latest progress report."""
    local = clock.local_tz()
    previous_due = Subquery(
        Node.objects.filter(
            project=OuterRef("project"), seq__lt=OuterRef("seq"), archived_at__isnull=True
        )
        .order_by("-seq", "-pk")
        .values("due_date")[:1],
        output_field=DateField(),
    )
    # A subquery by primary key, not a join: a join set up by an annotation stays in the
    # list's COUNT (every node joined to its project for nothing); the subquery is only
    # worked out for the rows whose lag is asked for (a page's, after its LIMIT).
    project_start = Subquery(
        Project.objects.filter(pk=OuterRef("project_id")).values("start_date")[:1],
        output_field=DateField(),
    )
    created_on = TruncDate("created_at", tzinfo=local)
    last_report = Subquery(
        ProgressReport.objects.filter(node=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .annotate(day=TruncDate("created_at", tzinfo=local))
        .values("day")[:1],
        output_field=DateField(),
    )
    return {
        "lag_start": Coalesce(previous_due, project_start, created_on, output_field=DateField()),
        "lag_created_on": created_on,
        "last_report_on": last_report,
    }


def _lagging(today: dt.date):
    """rules.node_lagging as one boolean expression over the facts of _lag_facts (referenced
    by name), with the thresholds of the rule version in force on `today`: False for a done
    node and for one past its effective due date."""
    today_n = Value((today - _EPOCH).days, output_field=IntegerField())
    start = _DayNumber(F("lag_start"))
    due = _DayNumber(Coalesce("committed_due_date", "due_date"))
    span = ExpressionWrapper(due - start, output_field=IntegerField())
    allowed = ExpressionWrapper(
        F("progress") + _threshold("lag_points", today), output_field=IntegerField()
    )
    behind = Q(
        LessThanOrEqual(span, 0), GreaterThanOrEqual(today_n, due), LessThan(allowed, 100)
    ) | Q(
        GreaterThan(span, 0),
        GreaterThan(
            ExpressionWrapper((today_n - start) * 100, output_field=IntegerField()),
            ExpressionWrapper(allowed * span, output_field=IntegerField()),
        ),
    )
    last = Coalesce(_DayNumber(F("last_report_on")), _DayNumber(F("lag_created_on")))
    silent = Q(
        GreaterThanOrEqual(
            ExpressionWrapper(today_n - last, output_field=IntegerField()),
            _threshold("stale_days", today),
        ),
        LessThanOrEqual(
            ExpressionWrapper(due - today_n, output_field=IntegerField()),
            _threshold("stale_horizon_days", today),
        ),
    )
    return Case(
        When(
            Q(completed_at__isnull=True) & Q(LessThanOrEqual(today_n, due)) & (behind | silent),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def nodes_with_card(queryset: QuerySet[Node], *, today: dt.date | None = None) -> QuerySet[Node]:
    """Annotate each node with `card_kind` (its highest unrevoked card, "red", "yellow" or None),
    `has_pending` (a recommitment waits for a decision) and `lagging` (the early warning,
    rules.node_lagging on `today`, with the thresholds in force then): what its light is made
    of. All in the one query."""
    today = today or clock.today()
    # Scalar subqueries with LIMIT 1, not EXISTS: PostgreSQL may answer an EXISTS in the select
    # list by hashing every card in force on every request, while these stay correlated, one
    # probe of an index per row (the partial unique indexes on Card(node, kind) and on the
    # pending Recommitment(node)), and are worked out after the sort and LIMIT of a page, for
    # its rows alone. "red" sorts before "yellow": the first kind is the highest card.
    card_kind = Subquery(
        Card.objects.filter(node=OuterRef("pk"), revoked_at__isnull=True)
        .order_by("kind")
        .values("kind")[:1],
        output_field=CharField(),
    )
    pending = Subquery(
        Recommitment.objects.filter(node=OuterRef("pk"), status=RecommitmentStatus.PENDING)
        .order_by()
        .values("pk")[:1],
        output_field=IntegerField(),
    )
    return (
        queryset.alias(**_lag_facts(today), pending_recommitment_id=pending)
        .annotate(
            card_kind=card_kind,
            has_pending=Case(
                When(pending_recommitment_id__isnull=False, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .annotate(lagging=_lagging(today))
    )


def nodes_with_lag_facts(queryset: QuerySet[Node], *, today: dt.date) -> QuerySet[Node]:
    """nodes_with_light plus the facts of the early warning, for saying why a node lags:
    `lag_start`, `lag_created_on` and `last_report_on` (see rules.node_lagging)."""
    return nodes_with_light(queryset, today=today).annotate(
        lag_start_on=F("lag_start"),
        created_on=F("lag_created_on"),
        last_report_day=F("last_report_on"),
    )


def nodes_with_light(queryset: QuerySet[Node], *, today) -> QuerySet[Node]:
    """nodes_with_card plus `light`, the node's light worked out by the database, so a list can
    be filtered by light: the same decision as rules.node_light (a test holds them equal)."""
    soon = today + dt.timedelta(days=rules.DUE_SOON_DAYS)
    return nodes_with_card(queryset, today=today).annotate(
        light=Case(
            When(completed_at__isnull=False, then=Value(Light.DONE.value)),
            When(card_kind=CardKind.RED.value, then=Value(Light.RED.value)),
            When(has_pending=True, then=Value(Light.AWAITING_APPROVAL.value)),
            When(card_kind=CardKind.YELLOW.value, then=Value(Light.YELLOW.value)),
            When(lagging=True, then=Value(Light.LAGGING.value)),
            When(
                Q(committed_due_date__isnull=False, committed_due_date__lte=soon)
                | Q(committed_due_date__isnull=True, due_date__lte=soon),
                then=Value(Light.DUE_SOON.value),
            ),
            default=Value(Light.ON_TRACK.value),
            output_field=CharField(),
        )
    )


def _page_facts(node_ids: list[int], today: dt.date) -> tuple[EscalationPolicy, dict]:
    """The early warning's thresholds in force on `today` and, for each of these nodes, its
    highest unrevoked card kind, the id of a recommitment waiting for a decision, the instant
    of its latest progress report and the planned date of its project's previous node on the
    books (see _lag_facts): what nodes_with_light works out for every row of a list, read in
    one query for a page's rows.

    Hand-written: built with the ORM, these subqueries cost more Python to resolve and
    compile (some 2.5 ms) than the database takes to answer them for a page."""
    qn = connection.ops.quote_name
    node, card = qn(Node._meta.db_table), qn(Card._meta.db_table)
    recommitment, report = qn(Recommitment._meta.db_table), qn(ProgressReport._meta.db_table)
    # The rule version in force on the day (core.versioning.in_force: the latest started,
    # before the first the first); none at all leaves the thresholds null: the defaults.
    sql = f"""
        SELECT n.id,
               (SELECT c.kind FROM {card} c
                 WHERE c.node_id = n.id AND c.revoked_at IS NULL
                 ORDER BY c.kind LIMIT 1),
               (SELECT r.id FROM {recommitment} r
                 WHERE r.node_id = n.id AND r.status = %s LIMIT 1),
               (SELECT p.created_at FROM {report} p
                 WHERE p.node_id = n.id ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
               (SELECT e.due_date FROM {node} e
                 WHERE e.project_id = n.project_id AND e.seq < n.seq AND e.archived_at IS NULL
                 ORDER BY e.seq DESC, e.id DESC LIMIT 1),
               rv.lag_points, rv.stale_days, rv.stale_horizon_days
          FROM {node} n
          LEFT JOIN (SELECT v.lag_points, v.stale_days, v.stale_horizon_days
                       FROM {qn(RuleVersion._meta.db_table)} v
                      ORDER BY CASE WHEN v.effective_from <= %s THEN 0 ELSE 1 END,
                               CASE WHEN v.effective_from <= %s THEN v.effective_from END DESC,
                               v.effective_from
                      LIMIT 1) rv ON 1 = 1
         WHERE n.id IN ({", ".join(["%s"] * len(node_ids))})
    """  # noqa: S608 (table names from the models, values bound)
    day = connection.ops.adapt_datefield_value(today)
    with connection.cursor() as cursor:
        cursor.execute(sql, [RecommitmentStatus.PENDING.value, day, day, *node_ids])
        rows = cursor.fetchall()
    policy = EscalationPolicy(version_id=None, effective_from=today)
    if rows and rows[0][5] is not None:
        lag, stale, horizon = rows[0][5:]
        policy = replace(policy, lag_points=lag, stale_days=stale, stale_horizon_days=horizon)
    return policy, {
        pk: (kind, pending, _instant(reported), _date(previous))
        for pk, kind, pending, reported, previous, *_ in rows
    }


def _instant(value) -> dt.datetime | None:
    """A timestamp read by hand: SQLite gives text in UTC, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _date(value) -> dt.date | None:
    """A date read by hand: SQLite gives text, PostgreSQL a date."""
    return parse_date(value) if isinstance(value, str) else value


def nodes_light_decorate(nodes: list[Node], *, today: dt.date | None = None) -> list[Node]:
    """Give each of these nodes (a page's rows, with their project) `card_kind`, `has_pending`,
    `lagging` and `light`, as nodes_with_light would, worked out in Python with the rules
    (rules.node_lagging, rules.node_light) and the rule version in force on `today`: one
    small query for the rows' facts instead of the light's large expression.
    Rows that already carry their light (a list filtered by light or card) are left as is."""
    today = today or clock.today()
    todo = [n for n in nodes if not hasattr(n, "light")]
    if not todo:
        return nodes
    policy, facts = _page_facts([n.pk for n in todo], today)
    for node in todo:
        card_kind, pending_id, last_report_at, previous_due = facts[node.pk]
        due = node.effective_due_date
        node.card_kind = card_kind
        node.has_pending = pending_id is not None
        created_on = clock.local_date(node.created_at)
        node.lagging = node.completed_at is None and rules.node_lagging(
            start=previous_due or node.project.start_date or created_on,
            created_on=created_on,
            due=due,
            today=today,
            progress=node.progress,
            last_report_on=clock.local_date(last_report_at) if last_report_at else None,
            policy=policy,
        )
        node.light = rules.node_light(
            completed=node.completed_at is not None,
            card_kind=card_kind,
            pending_recommitment=node.has_pending,
            effective_due_date=due,
            today=today,
            lagging=node.lagging,
        ).value
    return nodes


def light_of(node: Node, *, today=None) -> Light:
    """The light of a node annotated by nodes_with_card (its `lagging` worked out on the day of
    the query)."""
    return rules.node_light(
        completed=node.completed_at is not None,
        card_kind=node.card_kind,
        pending_recommitment=node.has_pending,
        effective_due_date=node.effective_due_date,
        today=today or clock.today(),
        lagging=node.lagging,
    )


def node_list_with_card(
    *,
    user,
    project: str | None = None,
    unit: str | None = None,
    card: str | None = None,
    light: str | None = None,
    work_stream: str | None = None,
    per_page: bool = False,
) -> QuerySet[Node]:
    """Nodes the user may see, with their highest unrevoked card and their `light`
    (nodes_with_light, today), filtered by project code, unit name, card kind, light and work
    stream code, in wall-chart order (project code, then sequence).

    `per_page`: for a list shown a page at a time; the card and light are then worked out by
    the database only when a filter needs them, else left to nodes_light_decorate on the
    page's rows (so that the light's large expression is neither built nor compiled)."""
    nodes = Node.objects.visible_to(user).select_related("project", "unit")
    if project:
        nodes = nodes.filter(project__code=project)
    if work_stream:
        nodes = nodes.filter(project__work_stream__code=work_stream)
    if unit:
        nodes = nodes.filter(unit__name=unit)
    if card or light or not per_page:
        nodes = nodes_with_light(nodes, today=clock.today())
    if card:
        nodes = nodes.filter(card_kind=card)
    if light:
        nodes = nodes.filter(light=light)
    return nodes.order_by("project__code", "seq", "pk")


def project_list_with_nodes(
    *, user, archived: bool = True, work_stream: str | None = None
) -> QuerySet[Project]:
    """Projects the user may see, in code order, each with its disposal lines and, in
    `visible_nodes`, the nodes the user may see with their highest unrevoked card;
    without the archived projects when `archived` is False; of one work stream (its code)
    when `work_stream` is given."""
    projects = Project.objects.visible_to(user)
    if not archived:
        projects = projects.filter(archived_at__isnull=True)
    if work_stream:
        projects = projects.filter(work_stream__code=work_stream)
    return (
        projects.select_related("locality")
        .prefetch_related(
            "disposal_lines",
            Prefetch("nodes", queryset=node_list_with_card(user=user), to_attr="visible_nodes"),
        )
        .order_by("code")
    )


def overdue_annotate(queryset: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """Annotate rows about a node (cards, items) with `overdue`, a timedelta: how long the node
    has been past the date it is held to (its approved committed date, else its planned date),
    counted to today, or to the day it was done. Negative while that date is still ahead.

    The one definition of 超期天数 that the lists show and filter on."""
    held_to = Coalesce("node__committed_due_date", "node__due_date")
    until = Coalesce(
        TruncDate("node__completed_at", tzinfo=clock.local_tz()),
        Value(today or clock.today(), output_field=DateField()),
        output_field=DateField(),
    )
    return queryset.annotate(
        overdue=ExpressionWrapper(until - held_to, output_field=DurationField())
    )


def _count(queryset: QuerySet, group: str):
    """A correlated COUNT of `queryset`'s rows, grouped by `group` (0 when there are none)."""
    return Coalesce(
        Subquery(queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]),
        0,
    )


def project_list_with_counts(*, user) -> QuerySet[Project]:
    """Projects the user may see, in code order, with their locality, enterprise and disposal
    lines, and counts over the nodes the user may see: `node_count`, `done_count`, and the
    cards in force `red_count` and `yellow_count`."""
    nodes = Node.objects.filter(project=OuterRef("pk"))
    cards = Card.objects.filter(node__project=OuterRef("pk"), revoked_at__isnull=True)
    if not user_scope(user=user).sees_all:
        visible = Node.objects.visible_to(user).values("pk")
        nodes = nodes.filter(pk__in=visible)
        cards = cards.filter(node__in=visible)
    return (
        Project.objects.visible_to(user)
        .select_related("locality", "enterprise")
        .prefetch_related("disposal_lines")
        .annotate(
            node_count=_count(nodes, "project"),
            done_count=_count(nodes.filter(completed_at__isnull=False), "project"),
            red_count=_count(cards.filter(kind=CardKind.RED), "node__project"),
            yellow_count=_count(cards.filter(kind=CardKind.YELLOW), "node__project"),
        )
        .order_by("code")
    )


def card_list(
    *, user, project: str | None = None, unit: str | None = None, kind: str | None = None
) -> QuerySet[Card]:
    """Cards on the nodes the user may see (revoked ones too), newest breach first, each with
    its node's `overdue` (overdue_annotate)."""
    cards = Card.objects.visible_to(user).select_related(
        "node__project__locality", "unit", "revoked_by"
    )
    if project:
        cards = cards.filter(node__project__code=project)
    if unit:
        cards = cards.filter(unit__name=unit)
    if kind:
        cards = cards.filter(kind=kind)
    return overdue_annotate(cards).order_by("-breached_at", "-pk")


def recommitment_list(*, user, status: str | None = None) -> QuerySet[Recommitment]:
    """Recommitments on the nodes the user may see, newest first."""
    recs = Recommitment.objects.visible_to(user).select_related("node", "decided_by")
    if status:
        recs = recs.filter(status=status)
    return recs.order_by("-submitted_at", "-pk")


# ---- leaders: the approval inbox and what they cover (包保) ----------------------------

INBOX_EVENTS = 5  # how many of a node's latest events an inbox card shows
DECIDED_RECENT = 20  # how many recent decisions the inbox lists under the pending ones
# Lights from the most to the least telling, for counts a leader reads at a glance.
LIGHT_ORDER = (
    Light.RED,
    Light.YELLOW,
    Light.AWAITING_APPROVAL,
    Light.LAGGING,
    Light.DUE_SOON,
    Light.ON_TRACK,
    Light.DONE,
)
# A leader looks first at these: the cards, the decisions waiting, and the early warning.
ATTENTION = frozenset({Light.RED, Light.YELLOW, Light.AWAITING_APPROVAL, Light.LAGGING})


def recommitments_decidable(*, user) -> QuerySet[Recommitment]:
    """Recommitments of the units whose recommitments the user may decide (leaders in charge of
    the unit; principal leaders all), in any status; nothing for anyone else."""
    scope = user_scope(user=user)
    recs = Recommitment.objects.visible_to(user)
    if scope.is_principal:
        return recs
    if not scope.leader_unit_ids:
        return recs.none()
    return recs.filter(node__unit_id__in=scope.leader_unit_ids)


def recommitment_inbox(*, user) -> QuerySet[Recommitment]:
    """The approval inbox: pending recommitments the user may decide, oldest first, each with
    its node, project, unit and submitter, and in `node.recent_events` the node's latest events."""
    return (
        recommitments_decidable(user=user)
        .filter(status=RecommitmentStatus.PENDING)
        .select_related("node__project", "node__unit", "submitted_by")
        .prefetch_related(
            Prefetch(
                "node__events",
                queryset=NodeEvent.objects.select_related("actor").order_by("-occurred_at", "-id")[
                    : INBOX_EVENTS + 1
                ],
                to_attr="recent_events",
            )
        )
        .order_by("submitted_at", "pk")
    )


def recommitment_decided_recent(*, user, limit: int = DECIDED_RECENT) -> QuerySet[Recommitment]:
    """The latest approvals and rejections the user could have made, newest decision first."""
    return (
        recommitments_decidable(user=user)
        .filter(status__in=[RecommitmentStatus.APPROVED, RecommitmentStatus.REJECTED])
        .select_related("node__project", "node__unit", "submitted_by", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def unit_cards_in_year(*, user, unit_ids, year: int) -> dict[int, dict[str, int]]:
    """Each unit's cards in force (not revoked) issued in `year` (county time), by kind:
    {unit_id: {"yellow": n, "red": n}}, for the units whose recommitments the user may decide."""
    scope = user_scope(user=user)
    wanted = {u for u in unit_ids if scope.can_decide_for_unit(u)}
    counts = {u: {kind.value: 0 for kind in CardKind} for u in wanted}
    if not wanted:
        return counts
    rows = (
        Card.objects.filter(
            unit_id__in=wanted,
            revoked_at__isnull=True,
            issued_at__gte=clock.start_of_day(dt.date(year, 1, 1)),
            issued_at__lt=clock.start_of_day(dt.date(year + 1, 1, 1)),
        )
        .values("unit_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["unit_id"]][row["kind"]] = row["n"]
    return counts


def light_counts(nodes, *, today=None) -> list[tuple[Light, int]]:
    """How many of the nodes (annotated by nodes_with_card) show each light, most telling
    first, lights no node shows left out."""
    today = today or clock.today()
    counts: dict[Light, int] = {}
    for node in nodes:
        light = light_of(node, today=today)
        counts[light] = counts.get(light, 0) + 1
    return [(light, counts[light]) for light in LIGHT_ORDER if counts.get(light)]


@dataclass
class CoverageGroup:
    """One thing a leader covers (a locality, an enterprise or a project) and its projects."""

    target: object
    projects: list
    lights: list[tuple[Light, int]]


@dataclass
class CoverageOverview:
    """What a leader covers (包保) and the projects that come with it, each with its lights."""

    localities: list[CoverageGroup]
    enterprises: list[CoverageGroup]
    covered_projects: list[CoverageGroup]
    led_projects: list  # projects naming the user as their 包保领导
    projects: list  # every project above once, in code order
    lights: list[tuple[Light, int]]  # over all those projects' nodes

    @property
    def is_empty(self) -> bool:
        return not self.projects and not (
            self.localities or self.enterprises or self.covered_projects
        )


def coverage_overview(*, user) -> CoverageOverview:
    """The leader's coverage rows (localities, enterprises, projects) and the projects they
    lead, each project with its nodes the user may see (`visible_nodes`, annotated by
    nodes_with_card, in sequence) and its light counts (`lights`); a fixed number of queries."""
    rows = list(
        Coverage.objects.filter(leader=user)
        .select_related("locality", "enterprise", "project")
        .order_by("target", "locality__name", "enterprise__name", "project__code")
    )
    nodes = nodes_with_card(Node.objects.visible_to(user).select_related("unit")).order_by(
        "seq", "pk"
    )
    projects = list(
        Project.objects.visible_to(user)
        .filter(pk__in=covered_project_ids(user.pk))
        .select_related("locality", "enterprise")
        .prefetch_related(Prefetch("nodes", queryset=nodes, to_attr="visible_nodes"))
        .order_by("code")
    )
    today = clock.today()
    for project in projects:
        project.lights = light_counts(project.visible_nodes, today=today)
        project.needs_attention = any(light in ATTENTION for light, _n in project.lights)

    def group(target, members) -> CoverageGroup:
        return CoverageGroup(
            target=target,
            projects=members,
            lights=light_counts([n for p in members for n in p.visible_nodes], today=today),
        )

    localities, enterprises, covered = [], [], []
    for row in rows:
        if row.target == CoverageTarget.LOCALITY:
            members = [p for p in projects if p.locality_id == row.locality_id]
            localities.append(group(row.locality, members))
        elif row.target == CoverageTarget.ENTERPRISE:
            members = [p for p in projects if p.enterprise_id == row.enterprise_id]
            enterprises.append(group(row.enterprise, members))
        else:
            members = [p for p in projects if p.pk == row.project_id]
            covered.append(group(row.project, members))
    return CoverageOverview(
        localities=localities,
        enterprises=enterprises,
        covered_projects=covered,
        led_projects=[p for p in projects if p.leader_id == user.pk],
        projects=projects,
        lights=light_counts([n for p in projects for n in p.visible_nodes], today=today),
    )


def sees_supervision_items(*, user) -> bool:
    """Whether the user may see the priority supervision items (the list and any figure drawn
    from them): leaders and the supervision office; unit staff alone may not."""
    scope = user_scope(user=user)
    return scope.is_leader or scope.is_supervisor or scope.sees_all


def supervision_item_list(*, user, status: str | None = None) -> QuerySet[SupervisionItem]:
    """The priority supervision list, on the nodes the user may see: for leaders and the
    supervision office; anyone else is refused. Each item comes with its node's `overdue`
    (overdue_annotate) and its last inspection (`last_mode`, `last_on`, `last_text`)."""
    if not sees_supervision_items(user=user):
        raise PermissionDenied(_("只有领导和督查办可以查看重点督办事项。"))
    items = SupervisionItem.objects.visible_to(user).select_related(
        "node__project__locality", "unit", "card", "closed_by"
    )
    if status:
        items = items.filter(status=status)
    last = InspectionRecord.objects.filter(item=OuterRef("pk")).order_by("-inspected_on", "-pk")
    items = items.annotate(
        last_mode=Subquery(last.values("mode")[:1]),
        last_on=Subquery(last.values("inspected_on")[:1]),
        last_text=Subquery(last.values("text")[:1]),
    )
    return overdue_annotate(items).order_by("-opened_at", "-pk")


@dataclass(frozen=True)
class RevocationEffects:
    """What revoking a card would restore, for the confirmation a person reads before it."""

    card: Card
    year: int  # the assessment year the points come back to: that of the breach
    points: Decimal
    open_item: SupervisionItem | None  # the red card's open item, closed by the revocation
    pending: Recommitment | None  # a yellow card's pending recommitment, which lapses
    committed_due_date: dt.date | None  # a yellow card's approved date, which stops ruling
    blocking_red: Card | None  # a yellow card cannot go while this red card stands


def card_revocation_effects(card: Card) -> RevocationEffects:
    """What card_revoke would do to this card's unit, item, recommitment and node, read now."""
    open_item = pending = blocking_red = None
    committed = None
    if card.kind == CardKind.RED:
        open_item = (
            SupervisionItem.objects.filter(card=card, status=ItemStatus.OPEN)
            .select_related("node__project")
            .first()
        )
    else:
        pending = Recommitment.objects.filter(
            node_id=card.node_id, status=RecommitmentStatus.PENDING
        ).first()
        committed = card.node.committed_due_date
        blocking_red = (
            Card.objects.filter(node_id=card.node_id, kind=CardKind.RED, revoked_at__isnull=True)
            .select_related("node__project")
            .first()
        )
    return RevocationEffects(
        card=card,
        year=clock.local_date(card.breached_at).year,
        points=card.points,
        open_item=open_item,
        pending=pending,
        committed_due_date=committed,
        blocking_red=blocking_red,
    )


def escalation_policies_load() -> list[EscalationPolicy]:
    """Every escalation rule version, oldest first (a small table), read from the county's rules."""
    return [
        EscalationPolicy(
            version_id=v.pk,
            effective_from=v.effective_from,
            yellow_points=v.yellow_points,
            red_points=v.red_points,
            grace_workdays=v.grace_workdays,
            lag_points=v.lag_points,
            stale_days=v.stale_days,
            stale_horizon_days=v.stale_horizon_days,
            early_bonus_points=v.early_bonus_points,
            # The admin validates the list; a hand-edited row must still not stop the sweep.
            reminder_days=tuple(
                sorted(
                    {
                        d
                        for d in (v.reminder_days if isinstance(v.reminder_days, list) else [])
                        if isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 60
                    },
                    reverse=True,
                )
            ),
        )
        for v in RuleVersion.objects.order_by("effective_from")
    ]


# ---------------------------------------------------------------- the unit staff's pages


@dataclass(frozen=True)
class GraceWindow:
    """The window in which a yellow-carded node's unit must explain and re-commit (3个工作日内)."""

    opened_on: dt.date  # the day the yellow card was issued, or of the last rejection
    workdays: int
    deadline: dt.date  # its last day: the red card is due at the end of it


def policy_in_force(policies: list[EscalationPolicy], day: dt.date) -> EscalationPolicy:
    """The rule in force on `day`; the defaults while no rule has been entered (a fresh
    database), so that a page shows the usual window instead of failing."""
    if not policies:
        return EscalationPolicy(version_id=None, effective_from=day)
    return rules.policy_on(policies, day)


def grace_window_compute(
    *,
    yellow_issued_at: dt.datetime,
    rejected_at: dt.datetime | None,
    policies: list[EscalationPolicy],
    calendar: WorkingCalendar,
) -> GraceWindow:
    """The running grace window of a yellow card's cycle, as supervision.rules reckons it: from
    the day of issue, or of the last rejection, under the rule in force when the card was issued."""
    issued_on = clock.local_date(yellow_issued_at)
    opened_on = clock.local_date(rejected_at) if rejected_at is not None else issued_on
    workdays = policy_in_force(policies, issued_on).grace_workdays
    return GraceWindow(
        opened_on=opened_on,
        workdays=workdays,
        deadline=rules.grace_deadline(opened_on, workdays, calendar.is_workday),
    )


def _with_cycle(queryset: QuerySet[Node]) -> QuerySet[Node]:
    """Annotate nodes (already annotated by nodes_with_card) with their yellow card's cycle:
    `yellow_issued_at`, `last_rejected_at` and `approved_in_cycle` (recommitments submitted
    since the card count), and `pending_due_date`, the date a pending recommitment asks for."""
    recs = Recommitment.objects.filter(node=OuterRef("pk"))
    queryset = queryset.annotate(
        yellow_issued_at=Subquery(
            Card.objects.filter(
                node=OuterRef("pk"), kind=CardKind.YELLOW, revoked_at__isnull=True
            ).values("issued_at")[:1]
        ),
        pending_due_date=Subquery(
            recs.filter(status=RecommitmentStatus.PENDING).values("new_due_date")[:1]
        ),
    )
    in_cycle = recs.filter(submitted_at__gte=OuterRef("yellow_issued_at"))
    return queryset.annotate(
        last_rejected_at=Subquery(
            in_cycle.filter(status=RecommitmentStatus.REJECTED)
            .order_by("-decided_at")
            .values("decided_at")[:1]
        ),
        approved_in_cycle=Exists(in_cycle.filter(status=RecommitmentStatus.APPROVED)),
    )


def _grace_window_of(node: Node, policies, calendar) -> GraceWindow | None:
    """The grace window of a node annotated by _with_cycle, when its clock is running."""
    if (
        node.completed_at is not None
        or node.card_kind != CardKind.YELLOW
        or node.has_pending
        or node.approved_in_cycle
        or node.yellow_issued_at is None
    ):
        return None
    return grace_window_compute(
        yellow_issued_at=node.yellow_issued_at,
        rejected_at=node.last_rejected_at,
        policies=policies,
        calendar=calendar,
    )


def recommitment_grace_window(*, node: Node) -> GraceWindow | None:
    """The window in which the node's unit must submit its overdue reason and new date, or None
    when no such clock runs (no yellow card in force, a red card, a recommitment pending or
    approved, the node done). Its deadline may already be past: the red card is then due."""
    return node_grace_window(_with_cycle(nodes_with_card(Node.objects.filter(pk=node.pk))).get())


@dataclass(frozen=True)
class TodoEntry:
    """One line of 我的待办: a node (annotated by nodes_with_card), what it needs next, and by when."""

    node: Node
    action: TodoAction
    deadline: dt.date  # the grace window's last day, the requested date, or the due date
    grace: GraceWindow | None = None

    @property
    def light(self) -> Light:
        return light_of(self.node)


def todo_list(*, user, today: dt.date | None = None) -> list[TodoEntry]:
    """The open nodes of the user's own units (as staff) that need something, most urgent first.

    A yellow card with no recommitment yet needs the overdue reason and a new date within
    the grace window (once it has closed, only the work itself remains); a pending recommitment waits for its approval (listed last, nothing
    to do but wait); a red card, an effective due date within the reminder horizon (the
    longest reminder of the rule in force, else 3 days) or past, or the early warning
    (lagging, rules.node_lagging), needs progress or completion (办结 once the reported
    progress is 100%). Fixed number of queries.
    """
    scope = user_scope(user=user)
    today = today or clock.today()
    if not scope.staff_unit_ids:
        return []
    policies = escalation_policies_load()
    calendar = WorkingCalendar.load()
    horizon = max(policy_in_force(policies, today).reminder_days or (rules.DUE_SOON_DAYS,))
    nodes = (
        _with_cycle(
            nodes_with_card(
                Node.objects.filter(
                    unit_id__in=scope.staff_unit_ids,
                    completed_at__isnull=True,
                    archived_at__isnull=True,
                ),
                today=today,
            )
        )
        .annotate(effective_due=Coalesce("committed_due_date", "due_date"))
        .filter(
            Q(card_kind__isnull=False)
            | Q(has_pending=True)
            | Q(effective_due__lte=today + dt.timedelta(days=horizon))
            | Q(lagging=True)
        )
        .select_related("project", "unit")
    )
    entries = []
    for node in nodes:
        finish = TodoAction.COMPLETE if node.progress >= 100 else TodoAction.REPORT
        if node.card_kind == CardKind.RED:
            entries.append(TodoEntry(node, finish, node.effective_due_date))
        elif node.has_pending:
            entries.append(TodoEntry(node, TodoAction.AWAITING, node.pending_due_date))
        elif (grace := _grace_window_of(node, policies, calendar)) and grace.deadline >= today:
            entries.append(TodoEntry(node, TodoAction.RECOMMIT, grace.deadline, grace))
        elif grace:  # the window has closed: the red card is due, the work remains
            entries.append(TodoEntry(node, finish, node.effective_due_date))
        elif (node.effective_due_date - today).days <= horizon or node.lagging:
            entries.append(TodoEntry(node, finish, node.effective_due_date))
    entries.sort(
        key=lambda e: (
            e.action == TodoAction.AWAITING,
            e.deadline,
            e.node.project.code,
            e.node.seq,
        )
    )
    return entries


def weekly_node_list(*, user) -> QuerySet[Node]:
    """Every open node of the user's own units (as staff), with its light, the nearest effective
    due date first (the nodes at work now on top), then in wall-chart order."""
    scope = user_scope(user=user)
    return (
        nodes_with_card(
            Node.objects.filter(
                unit_id__in=scope.staff_unit_ids,
                completed_at__isnull=True,
                archived_at__isnull=True,
            )
        )
        .annotate(effective_due=Coalesce("committed_due_date", "due_date"))
        .select_related("project", "unit")
        .order_by("effective_due", "project__code", "seq", "pk")
    )


def archive_reason(obj: Node | Project) -> str:
    """Why an archived node or project was archived: the reason its history kept."""
    if obj.archived_at is None:
        return ""
    record = obj.history.filter(archived_at=obj.archived_at).order_by("history_date").first()
    return (record.history_change_reason or "") if record else ""


def node_for_page(*, user, node_id: int) -> Node:
    """One node the user may see, with its light and its yellow card's cycle; else Http404."""
    node = (
        _with_cycle(nodes_with_card(Node.objects.visible_to(user)))
        .select_related("project", "unit")
        .filter(pk=node_id)
        .first()
    )
    if node is None:
        raise Http404(_("节点不存在，或不在您的查看范围内。"))
    return node


def node_grace_window(node: Node) -> GraceWindow | None:
    """The running grace window of a node fetched by node_for_page; reads the rules and the
    calendar only when a yellow card's clock may be running."""
    if node.card_kind != CardKind.YELLOW or node.has_pending or node.approved_in_cycle:
        return None
    return _grace_window_of(node, escalation_policies_load(), WorkingCalendar.load())


# Stored extensions a browser shows as a picture: thumbnails on the node page, inline.
IMAGE_EXTENSIONS = frozenset({"jpg", "png", "gif", "webp", "bmp"})


@dataclass(frozen=True)
class AttachmentLink:
    """An evidence file as a page links it: its kind (progress, inspection) for the download URL."""

    kind: str
    attachment: object

    @property
    def extension(self) -> str:
        """The stored file's type (from its content when it was uploaded): png, pdf, docx…"""
        name = self.attachment.file.name
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""

    @property
    def is_image(self) -> bool:
        return self.extension in IMAGE_EXTENSIONS


def node_pending_recommitment(*, node: Node) -> Recommitment | None:
    """The recommitment of the node that waits for a decision, with who submitted it."""
    return (
        Recommitment.objects.filter(node=node, status=RecommitmentStatus.PENDING)
        .select_related("submitted_by")
        .first()
    )


@dataclass
class TimelineEntry:
    """One fact of a node's timeline (a NodeEvent) with what it brought: a report's note and
    files, an inspection's text and files, a recommitment's reason."""

    event: NodeEvent
    note: str = ""
    attachments: list = field(default_factory=list)


def node_timeline(*, node: Node) -> list[TimelineEntry]:
    """Everything that happened to a node, newest first, with reports' notes and attachments
    and inspections' files. A fixed number of queries, whatever the length."""
    events = list(
        NodeEvent.objects.filter(node=node).select_related("actor").order_by("-occurred_at", "-id")
    )
    report_ids = {e.data.get("report") for e in events if isinstance(e.data, dict)}
    record_ids = {e.data.get("record") for e in events if isinstance(e.data, dict)}
    reports = {
        r.pk: r
        for r in ProgressReport.objects.filter(
            node=node, pk__in=[i for i in report_ids if isinstance(i, int)]
        ).prefetch_related("attachments")
    }
    records = {
        r.pk: r
        for r in InspectionRecord.objects.filter(
            item__node=node, pk__in=[i for i in record_ids if isinstance(i, int)]
        ).prefetch_related("attachments")
    }
    entries = []
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        entry = TimelineEntry(event=event)
        if (report := reports.get(data.get("report"))) is not None:
            entry.note = report.note
            entry.attachments = [AttachmentLink("progress", a) for a in report.attachments.all()]
        elif (record := records.get(data.get("record"))) is not None:
            entry.note = record.text
            entry.attachments = [AttachmentLink("inspection", a) for a in record.attachments.all()]
        elif event.kind == NodeEventKind.RECOMMITMENT_SUBMITTED:
            entry.note = data.get("reason", "")
        entries.append(entry)
    return entries


def attachment_for_download(*, user, kind: str, attachment_id: int):
    """A progress or inspection attachment on a node the user may see; else Http404."""
    visible = Node.objects.visible_to(user).values("pk")
    if kind == "progress":
        found = ProgressAttachment.objects.filter(pk=attachment_id, report__node__in=visible)
    elif kind == "inspection":
        found = InspectionAttachment.objects.filter(
            pk=attachment_id, record__item__node__in=visible
        )
    else:
        found = None
    attachment = found.first() if found is not None else None
    if attachment is None:
        raise Http404(_("附件不存在，或不在您的查看范围内。"))
    return attachment
