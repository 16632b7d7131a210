"""A synthetic province-scale data set for benchmarks: many projects, a million nodes.

The data set is what a county would hold after three years of the node work method, as a
daily sweep (00:05 each night) running up to a *catch-up instant* would have left it: most
past nodes done on time, some carded yellow, some of those red (with their deductions,
supervision items, node events and recommitments approved or rejected), and every node's
``next_escalation_at`` set as that sweep stores it. The cards are decided by
``supervision.rules.evaluate`` itself, so the data agrees with the rules by construction.

A fraction of the nodes (``overdue_fraction``) fell due after the catch-up instant and
before ``today`` and are still open: the next sweep, as of any instant of ``today``, owes
each of them a yellow card, and nothing else.

Everything is written with bulk inserts, one chunk of projects at a time (memory stays
flat), and is a function of the arguments alone: one ``random.Random(seed)``, no clock read,
stable codes (S000001…) and usernames (scale-staff-1…), one password hash.
"""

import datetime as dt
import functools
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, connections, models, transaction
from django.db.models import Max

from core import clock
from core.formats import date_cn, points_text
from organization.choices import CoverageTarget, Role, UnitKind
from organization.models import Coverage, RoleAssignment, Unit, User
from organization.selectors import system_user
from projects.choices import DisposalMethod, NodeEventKind, ProjectStatus
from projects.models import (
    DisposalLine,
    Enterprise,
    Node,
    NodeEvent,
    ProgressReport,
    Project,
    WorkStream,
    land_stream_id,
)
from scoring.choices import EntryKind
from scoring.models import PointsEntry
from supervision import rules
from supervision.choices import CardKind, ItemStatus, RecommitmentStatus
from supervision.models import Card, Recommitment, SupervisionItem
from supervision.services.facts import ESCALATION_SETTLED, EscalationContext

from .data import (
    GRAFTING_STEPS,
    INVESTMENT_STEPS,
    KEY_PROJECT_STEPS,
    SELF_UPGRADE_STEPS,
    STREAMS,
    TAKEBACK_STEPS,
)

SCALE_PASSWORD = "scale12345"
# A fixed salt: the one hash every generated account shares is the same from run to run.
_PASSWORD_SALT = "nodetrackscale"
STAFF_PER_UNIT = 2
UNITS_PER_LEADER = 4
PROJECTS_PER_LOCALITY = 100
CHUNK_PROJECTS = 1000
BATCH = 5000
# The catch-up instant is this many days before `today`, at the nightly sweep's time.
CATCH_UP_DAYS = 3
SWEEP_TIME = dt.timedelta(minutes=5)

DEPARTMENT_NAMES = (
    "自然资源和规划局",
    "经信局",
    "住建局",
    "财政局",
    "投资促进中心",
    "市场监管局",
    "发展改革委",
    "生态环境分局",
    "税务局",
    "交通运输局",
    "水务局",
    "农业农村局",
    "商务局",
    "应急管理局",
    "城管局",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰峰波辉鹏"
STREAM_STEPS = {
    "land": (TAKEBACK_STEPS, GRAFTING_STEPS, SELF_UPGRADE_STEPS),
    "key-projects": (KEY_PROJECT_STEPS,),
    "investment": (INVESTMENT_STEPS,),
}
LAND_METHODS = (DisposalMethod.TAKEBACK, DisposalMethod.GRAFTING, DisposalMethod.SELF_UPGRADE)
KIND_WORDS = {CardKind.YELLOW: "黄牌", CardKind.RED: "红牌"}


def scale_instants(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The catch-up instant (the last nightly sweep the history includes) and the first
    instant of `today` (a sweep as of it, or of any later instant of that day, owes the
    overdue fraction its yellow cards and nothing more)."""
    return (
        clock.start_of_day(today - dt.timedelta(days=CATCH_UP_DAYS)) + SWEEP_TIME,
        clock.start_of_day(today),
    )


def scale_usernames() -> dict[str, str]:
    """The accounts a benchmark signs in as (all share SCALE_PASSWORD)."""
    return {
        "staff": "scale-staff-1",
        "leader": "scale-leader-1",
        "office": "scale-office",
        "principal": "scale-principal",
    }


@dataclass
class ScaleResult:
    """What a run wrote: rows per kind, seconds, and the nodes left for the next sweep."""

    today: dt.date
    catch_up: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # (project code, seq) of the nodes breached after the catch-up instant, not yet carded.
    overdue: list[tuple[str, int]] = field(default_factory=list)

    def add(self, kind: str, n: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return clock.start_of_day(day) + dt.timedelta(hours=hour, minutes=minute)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _bulk(model, objs: list, *, actor: User, result: ScaleResult, label: str, when=None):
    """Insert rows (pks come back on PostgreSQL and SQLite) and, given `when` (the date of
    the rows without their own `_history_date`), their creation history."""
    model.objects.bulk_create(objs, batch_size=BATCH)
    if when is not None and objs:
        model.history.bulk_history_create(
            objs, batch_size=BATCH, default_user=actor, default_date=when
        )
    result.add(label, len(objs))
    return objs


# --- the people and the units ------------------------------------------------------------


@dataclass
class Org:
    localities: list[Unit]
    departments: list[Unit]
    staff: dict[int, list[User]]  # unit id → its staff
    leader: dict[int, User]  # unit id → its leader in charge
    leaders: list[User]
    streams: dict[str, WorkStream]


def _org_build(rng: random.Random, projects: int, actor: User, since: dt.datetime, result):
    n_localities = max(2, math.ceil(projects / PROJECTS_PER_LOCALITY))
    n_departments = max(3, min(60, len(DEPARTMENT_NAMES) + projects // 2000))
    localities = [
        Unit(
            name=f"规模测试{i:04d}{'园区' if i % 5 == 0 else '镇'}",
            kind=UnitKind.PARK if i % 5 == 0 else UnitKind.TOWNSHIP,
        )
        for i in range(1, n_localities + 1)
    ]
    departments = []
    for i in range(n_departments):
        base = DEPARTMENT_NAMES[i % len(DEPARTMENT_NAMES)]
        round_ = i // len(DEPARTMENT_NAMES)
        departments.append(
            Unit(
                name=f"规模测试县{base}" + (f"{round_ + 1}分局" if round_ else ""),
                kind="department",
            )
        )
    units = localities + departments
    _bulk(Unit, units, actor=actor, result=result, when=since, label="责任单位")

    password = make_password(SCALE_PASSWORD, salt=_PASSWORD_SALT)  # hashed once for all

    def user(username: str, full_name: str) -> User:
        return User(
            username=username,
            full_name=full_name,
            email=f"{username}@scale.example.cn",
            password=password,
            date_joined=since,
        )

    users = [user("scale-office", "督查办" + _person(rng)), user("scale-principal", _person(rng))]
    staff: dict[int, list[User]] = {}
    for index, unit in enumerate(units):
        staff[unit.pk] = [
            user(f"scale-staff-{index * STAFF_PER_UNIT + k + 1}", _person(rng))
            for k in range(STAFF_PER_UNIT)
        ]
        users += staff[unit.pk]
    leaders = [
        user(f"scale-leader-{i + 1}", _person(rng))
        for i in range(math.ceil(len(units) / UNITS_PER_LEADER))
    ]
    users += leaders
    _bulk(User, users, actor=actor, result=result, when=since, label="账号")

    leader = {unit.pk: leaders[i % len(leaders)] for i, unit in enumerate(units)}
    roles = [RoleAssignment(user=users[0], role=Role.SUPERVISOR)]
    roles.append(RoleAssignment(user=users[1], role=Role.PRINCIPAL))
    for unit in units:
        roles += [RoleAssignment(user=u, role=Role.STAFF, unit=unit) for u in staff[unit.pk]]
        roles.append(RoleAssignment(user=leader[unit.pk], role=Role.LEADER, unit=unit))
    _bulk(RoleAssignment, roles, actor=actor, result=result, when=since, label="角色")
    coverage = [
        Coverage(leader=leader[u.pk], target=CoverageTarget.LOCALITY, locality=u)
        for u in localities
    ]
    _bulk(Coverage, coverage, actor=actor, result=result, when=since, label="包保关系")

    streams = {"land": WorkStream.objects.get(pk=land_stream_id())}
    for code, (name, seq, _prefix) in STREAMS.items():
        streams[code], _created = WorkStream.objects.get_or_create(
            code=code, defaults={"name": name, "seq": seq}
        )
    return Org(localities, departments, staff, leader, leaders, streams)


# --- one node's history, decided by the rules ---------------------------------------------


@dataclass
class CardRow:
    kind: str
    deadline: dt.date
    breached_at: dt.datetime
    issued_at: dt.datetime
    reason: rules.Breach


@dataclass
class RecRow:
    submitted_at: dt.datetime
    new_due_date: dt.date
    status: str = RecommitmentStatus.PENDING
    decided_at: dt.datetime | None = None
    comment: str = ""

    def fact(self) -> rules.RecommitmentFact:
        return rules.RecommitmentFact(
            self.submitted_at, self.status, self.decided_at, self.new_due_date
        )


@dataclass
class NodeStory:
    """A node's facts as of the catch-up instant and the rows that record them."""

    due_date: dt.date
    completed_at: dt.datetime | None
    progress: int
    cards: list[CardRow] = field(default_factory=list)
    recs: list[RecRow] = field(default_factory=list)
    committed_due_date: dt.date | None = None
    next_escalation_at: dt.datetime | None = None
    overdue: bool = False

    def facts(self) -> rules.NodeFacts:
        by_kind = {c.kind: rules.CardFact(c.kind, c.issued_at, c.breached_at) for c in self.cards}
        return rules.NodeFacts(
            due_date=self.due_date,
            committed_due_date=self.committed_due_date,
            completed_at=self.completed_at,
            yellow=by_kind.get(CardKind.YELLOW),
            red=by_kind.get(CardKind.RED),
            recommitments=tuple(r.fact() for r in self.recs),
        )


# What a unit does after a yellow card: (weight, answer). None: nothing (a red card follows).
ANSWERS = ((35, "finish"), (25, "approve"), (12, "reject"), (28, None))


def _settle(story: NodeStory, reason: str) -> None:
    """A done node: 100 percent, and what still waited for a decision lapses."""
    story.progress = 100
    for rec in story.recs:
        if rec.status == RecommitmentStatus.PENDING:
            rec.status, rec.decided_at, rec.comment = (
                RecommitmentStatus.LAPSED,
                story.completed_at,
                reason,
            )


def _story(
    rng: random.Random,
    due: dt.date,
    *,
    overdue: bool,
    ctx: EscalationContext,
    catch_up: dt.datetime,
    day_end: dt.datetime,
) -> NodeStory:
    """The node as the nightly sweeps up to `catch_up` (and the unit and leaders) left it."""
    catch_up_day = clock.local_date(catch_up)
    if overdue:
        # Fell due after the catch-up instant: open, not yet carded, the next sweep's work.
        story = NodeStory(due, None, rng.randint(40, 90), overdue=True)
        story.next_escalation_at = ctx.evaluate(story.facts(), catch_up).next_check_at
        return story
    late = rng.random() < 0.14  # missed its date (most nodes are done on time)
    completed_at = None
    if due < catch_up_day and not late:
        completed_at = _at(due - dt.timedelta(days=rng.randint(0, 6)), rng.randint(9, 17))
    story = NodeStory(due, completed_at, 100 if completed_at else 0)
    answer = rng.choices([a for _w, a in ANSWERS], [w for w, _a in ANSWERS])[0] if late else None
    for _round in range(4):  # a yellow, perhaps a recommitment, a red: settles in a few rounds
        evaluation = ctx.evaluate(story.facts(), catch_up)
        if evaluation.due is None:
            break
        owed = evaluation.due
        issued = owed.breached_at + SWEEP_TIME  # the nightly sweep after the breach
        story.cards.append(CardRow(owed.kind, owed.deadline, owed.breached_at, issued, owed.reason))
        if owed.kind == CardKind.RED:
            for rec in story.recs:  # a red card lapses what waits for a decision
                if rec.status == RecommitmentStatus.PENDING:
                    rec.status, rec.decided_at = RecommitmentStatus.LAPSED, issued
                    rec.comment = "已亮红牌，待审批的重新承诺自动失效"
            continue
        day = clock.local_date(issued)
        if answer == "finish":  # done within the grace window: the yellow card stays alone
            story.completed_at = _at(day + dt.timedelta(days=1), rng.randint(9, 17))
        elif answer in ("approve", "reject"):
            submitted = _at(day + dt.timedelta(days=1), rng.randint(9, 11))
            decided = _at(day + dt.timedelta(days=2), rng.randint(14, 17))
            rec = RecRow(submitted, day + dt.timedelta(days=rng.randint(10, 45)))
            if decided <= catch_up:
                if answer == "approve":
                    rec.status = RecommitmentStatus.APPROVED
                    story.committed_due_date = rec.new_due_date
                    if rng.random() < 0.7:  # met the new date
                        story.completed_at = _at(
                            rec.new_due_date - dt.timedelta(days=rng.randint(0, 5)), 15
                        )
                else:
                    rec.status = RecommitmentStatus.REJECTED
                    rec.comment = "超期原因说明不充分，请补充后重新提交"
                rec.decided_at = decided
            if submitted <= catch_up:
                story.recs.append(rec)
        if story.completed_at is not None and story.completed_at > catch_up:
            story.completed_at = None  # after the catch-up instant: not yet happened
    if late and story.completed_at is None and story.cards and rng.random() < 0.5:
        # Done late, some days after its last card (a red card's item is then ready to close).
        story.completed_at = story.cards[-1].issued_at + dt.timedelta(days=rng.randint(3, 30))
        if story.completed_at > catch_up:
            story.completed_at = None
    if story.completed_at is not None and story.completed_at <= catch_up:
        # Done: the catch-up sweep's fixpoint above left nothing owed, and the completion
        # only takes cards away, so the rules owe this node nothing more, ever.
        _settle(story, "节点已办结，重新承诺无需审批")
        story.next_escalation_at = ESCALATION_SETTLED
        return story
    # Nothing but the overdue fraction may fall due before today is over: a node whose
    # next card would come in that window was, in this history, finished just before.
    if ctx.evaluate(story.facts(), day_end).due is not None:
        story.completed_at = catch_up - dt.timedelta(minutes=1)
        _settle(story, "节点已办结，重新承诺无需审批")
    elif due <= catch_up_day + dt.timedelta(days=60):
        story.progress = rng.randint(10, 90)
    evaluation = ctx.evaluate(story.facts(), catch_up)
    assert evaluation.due is None, "the catch-up sweep owes nothing more"
    story.next_escalation_at = evaluation.next_check_at or ESCALATION_SETTLED
    return story


# --- fast rows: COPY on PostgreSQL, executemany elsewhere, ids handed out here -------------

HISTORY_EXTRA = ("history_date", "history_change_reason", "history_type", "history_user_id")


class Rows:
    """Writes rows straight into tables, past the ORM's per-value preparation.

    The database is empty and nobody else writes while the generator runs, so the ids are
    handed out here (the sequences are set past them at the end): rows can refer to each
    other before they are written, and COPY needs no RETURNING.
    """

    def __init__(self, actor_id: int):
        self.pg = connection.vendor == "postgresql"
        self.actor_id = actor_id
        self._next: dict[type[models.Model], int] = {}
        self.queued: list | None = None

    def ids(self, model, n: int) -> range:
        if model not in self._next:
            self._next[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        start = self._next[model]
        self._next[model] = start + n
        return range(start, start + n)

    def insert(self, model, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.queued is not None:  # written later, by the writer thread
            self.queued.append((model, columns, rows))
            return
        self.write(model, columns, rows)

    def write(self, model, columns: Sequence[str], rows: list[tuple]) -> None:
        by_column = {f.column: f for f in model._meta.concrete_fields}
        fields = [by_column[c] for c in columns]
        qn = connection.ops.quote_name
        table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
        with connection.cursor() as cursor:
            if self.pg:
                jsons = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        if jsons:
                            row = list(row)
                            for i in jsons:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    [
                        tuple(
                            f.get_db_prep_save(v, connection)
                            for f, v in zip(fields, row, strict=True)
                        )
                        for row in rows
                    ],
                )

    def history(self, model, columns, rows, dates, reason: str | None = None) -> None:
        """A creation record ("+") per row, dated as given, by the system account."""
        history = model.history.model
        tracked = [
            f.column
            for f in history._meta.concrete_fields
            if f.attname != "history_id" and f.attname not in HISTORY_EXTRA
        ]
        pick = [columns.index(c) for c in tracked]
        self.insert(
            history,
            tracked + list(HISTORY_EXTRA),
            [
                tuple(row[i] for i in pick) + (when, reason, "+", self.actor_id)
                for row, when in zip(rows, dates, strict=True)
            ],
        )

    def objects(self, model, objs: list, *, when: dt.datetime | None, result, label) -> None:
        """Model instances whose pk is set already, with their creation history."""
        columns = [f.column for f in model._meta.concrete_fields]
        attnames = [f.attname for f in model._meta.concrete_fields]
        rows = [tuple(getattr(o, a) for a in attnames) for o in objs]
        self.insert(model, columns, rows)
        if when is not None:
            dates = [getattr(o, "_history_date", when) for o in objs]
            reason = getattr(objs[0], "_change_reason", None) if objs else None
            self.history(model, columns, rows, dates, reason)
        result.add(label, len(objs))

    def sequences_reset(self) -> None:
        """Set each table's id sequence past the ids handed out here."""
        statements = connection.ops.sequence_reset_sql(no_style(), list(self._next))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# --- projects, a chunk at a time ------------------------------------------------------------


@dataclass
class Env:
    rng: random.Random
    org: Org
    ctx: EscalationContext
    actor: User
    rows: Rows
    today: dt.date
    catch_up: dt.datetime
    day_end: dt.datetime
    nodes_per_project: int
    overdue: set[int]  # global node indexes
    result: ScaleResult


@dataclass(frozen=True)
class NodeRef:
    """What the history rows need of a written node."""

    id: int
    project: Project
    seq: int
    name: str
    unit_id: int
    story: NodeStory


NODE_COLUMNS = (
    "id",
    "project_id",
    "seq",
    "name",
    "unit_id",
    "owner",
    "due_date",
    "committed_due_date",
    "completed_at",
    "progress",
    "next_escalation_at",
    "archived_at",
    "archived_by_id",
    "created_at",
    "updated_at",
)
REPORT_COLUMNS = ("id", "node_id", "percent", "note", "author_id", "is_completion", "created_at")
EVENT_COLUMNS = ("node_id", "kind", "actor_id", "occurred_at", "message", "data")


def _chunk_write(env: Env, first: int, count: int) -> None:
    rng, org, today, rows = env.rng, env.org, env.today, env.rows
    m = env.nodes_per_project
    earliest = today - dt.timedelta(days=730)
    latest = today + dt.timedelta(days=365)
    projects, lines, enterprises, coverages = [], [], [], []
    plans: list[list[tuple[str, Unit, str, NodeStory]]] = []
    project_ids = iter(rows.ids(Project, count))
    enterprise_ids = iter(rows.ids(Enterprise, count))
    for p in range(first, first + count):
        code = f"S{p + 1:06d}"
        stream = rng.choices(("land", "key-projects", "investment"), (6, 2, 2))[0]
        steps = rng.choice(STREAM_STEPS[stream])
        locality = rng.choice(org.localities)
        gaps = [rng.randint(5, 40) for _ in range(m)]
        span = sum(gaps)
        start = earliest + dt.timedelta(
            days=rng.randint(0, max(0, (latest - earliest).days - span))
        )
        enterprise = Enterprise(
            id=next(enterprise_ids), name=f"规模测试{code}实业有限公司", locality=locality
        )
        enterprises.append(enterprise)
        leader = org.leader[locality.pk]
        # Entered some days before its start, and never after the catch-up instant.
        created = min(
            _at(start - dt.timedelta(days=rng.randint(5, 30)), 9, 30),
            env.catch_up - dt.timedelta(hours=15),
        )
        due, stories = start, []
        for i in range(m):
            due = due + dt.timedelta(days=gaps[i])
            step = steps[i % len(steps)]
            unit = locality if step.unit is None else rng.choice(org.departments)
            name = step.name + (f"（第{i // len(steps) + 1}轮）" if i >= len(steps) else "")
            overdue = p * m + i in env.overdue
            node_due = today - dt.timedelta(days=rng.randint(1, CATCH_UP_DAYS)) if overdue else due
            story = _story(
                rng,
                node_due,
                overdue=overdue,
                ctx=env.ctx,
                catch_up=env.catch_up,
                day_end=env.day_end,
            )
            if overdue:
                env.result.overdue.append((code, i + 1))
            stories.append((name, unit, _person(rng), story))
        plans.append(stories)
        done = all(s.completed_at is not None for *_x, s in stories)
        title = steps[0].name[:4]
        project = Project(
            id=next(project_ids),
            code=code,
            name=f"规模测试项目{code}（{org.streams[stream].name}·{title}）",
            work_stream=org.streams[stream],
            locality=locality,
            enterprise=enterprise,
            leader=leader,
            status=ProjectStatus.COMPLETED if done else ProjectStatus.ACTIVE,
            start_date=start,
            end_date=max(due, start),
            created_at=created,
        )
        project._history_date = created
        projects.append(project)
        if stream == "land":
            area = Decimal(rng.randint(500, 15000)) / 100
            lines.append(
                DisposalLine(project=project, method=rng.choice(LAND_METHODS), area_mu=area)
            )
        if rng.random() < 0.05:
            coverages.append(
                Coverage(leader=leader, target=CoverageTarget.ENTERPRISE, enterprise=enterprise)
            )
        if rng.random() < 0.02:  # a county leader answers for a project of another locality
            other = rng.choice(org.leaders)
            if other.pk != leader.pk:
                coverages.append(
                    Coverage(leader=other, target=CoverageTarget.PROJECT, project=project)
                )
    for obj, pk in zip(lines, rows.ids(DisposalLine, len(lines)), strict=True):
        obj.pk = pk
    for obj, pk in zip(coverages, rows.ids(Coverage, len(coverages)), strict=True):
        obj.pk = pk
    result, when = env.result, env.catch_up
    rows.objects(Enterprise, enterprises, when=when, result=result, label="企业")
    rows.objects(Project, projects, when=when, result=result, label="项目")
    rows.objects(DisposalLine, lines, when=when, result=result, label="处置方式")
    rows.objects(Coverage, coverages, when=when, result=result, label="包保关系")

    node_ids = iter(rows.ids(Node, count * m))
    node_rows, refs = [], []
    for project, stories in zip(projects, plans, strict=True):
        for seq, (name, unit, owner, story) in enumerate(stories, start=1):
            updated = max(
                [project.created_at]
                + ([story.completed_at] if story.completed_at else [])
                + [r.decided_at for r in story.recs if r.decided_at]
            )
            node_id = next(node_ids)
            node_rows.append(
                (
                    node_id,
                    project.pk,
                    seq,
                    name,
                    unit.pk,
                    owner,
                    story.due_date,
                    story.committed_due_date,
                    story.completed_at,
                    story.progress,
                    story.next_escalation_at,
                    None,
                    None,
                    project.created_at,
                    updated,
                )
            )
            refs.append(NodeRef(node_id, project, seq, name, unit.pk, story))
    rows.insert(Node, NODE_COLUMNS, node_rows)
    rows.history(Node, NODE_COLUMNS, node_rows, [r.project.created_at for r in refs])
    result.add("节点", len(node_rows))
    _history_write(env, refs)


def _history_write(env: Env, refs: list[NodeRef]) -> None:
    """Reports, cards with their deductions and items, recommitments and the node events."""
    actor_id, result, org, rows, catch_up = (
        env.actor.pk,
        env.result,
        env.org,
        env.rows,
        env.catch_up,
    )
    reports, events, entries, cards, items, recs = [], [], [], [], [], []

    def event(ref, kind, who, at, message, **data):
        events.append((ref.id, kind, who, at, message[:500], data))

    report_ids = iter(rows.ids(ProgressReport, sum(1 for r in refs if r.story.progress)))
    for ref in refs:
        story = ref.story
        staff = org.staff[ref.unit_id][ref.seq % STAFF_PER_UNIT].pk
        if story.completed_at is not None:
            report_id = next(report_ids)
            reports.append(
                (
                    report_id,
                    ref.id,
                    100,
                    f"{ref.name}已办结，相关材料已归档。",
                    staff,
                    True,
                    story.completed_at,
                )
            )
            event(
                ref,
                NodeEventKind.COMPLETED,
                staff,
                story.completed_at,
                "节点办结",
                report=report_id,
                source="staff",
                completed_at=story.completed_at.isoformat(),
            )
        elif story.progress:
            report_id = next(report_ids)
            at = max(
                catch_up - dt.timedelta(days=1 + ref.seq % 5, hours=10),
                ref.project.created_at + dt.timedelta(hours=1),
            )
            reports.append(
                (
                    report_id,
                    ref.id,
                    story.progress,
                    f"{ref.name}正在推进，已完成{story.progress}%。",
                    staff,
                    False,
                    at,
                )
            )
            event(
                ref,
                NodeEventKind.PROGRESS,
                staff,
                at,
                f"填报进度：{story.progress}%",
                report=report_id,
                percent=story.progress,
            )
        for c in story.cards:
            policy = env.ctx.policy_on(clock.local_date(c.breached_at))
            points = rules.card_points(policy, c.kind)
            what = _breach_text(c, env)
            entry = PointsEntry(
                unit_id=ref.unit_id,
                node_id=ref.id,
                kind=EntryKind.CARD_DEDUCTION,
                points=-points,
                rule_version_id=policy.version_id,
                occurred_at=c.breached_at,
                created_at=c.issued_at,
                created_by_id=actor_id,
                reason=f"{ref.project.code} {ref.project.name} 节点“{ref.name}”{what}，"
                f"{KIND_WORDS[c.kind]}扣{points_text(points)}分",
            )
            entry._history_date = c.issued_at
            card = Card(
                node_id=ref.id,
                unit_id=ref.unit_id,
                kind=c.kind,
                deadline=c.deadline,
                breached_at=c.breached_at,
                issued_at=c.issued_at,
                points=points,
                rule_version_id=policy.version_id,
            )
            card._history_date = c.issued_at
            card._change_reason = "系统自动亮牌"
            entries.append(entry)
            cards.append((ref, c, card, entry, what))
        for r in story.recs:
            decided_by = (
                org.leader[ref.unit_id].pk
                if r.status in (RecommitmentStatus.APPROVED, RecommitmentStatus.REJECTED)
                else None
            )
            rec = Recommitment(
                node_id=ref.id,
                reason="受前置手续办理影响，未能按计划完成，现重新承诺完成时间。",
                new_due_date=r.new_due_date,
                status=r.status,
                submitted_by_id=staff,
                submitted_at=r.submitted_at,
                decided_by_id=decided_by,
                decided_at=r.decided_at,
                comment=r.comment,
            )
            rec._history_date = r.decided_at or r.submitted_at
            recs.append((ref, r, rec))
    for obj, pk in zip(entries, rows.ids(PointsEntry, len(entries)), strict=True):
        obj.pk = pk
    for (_r, _c, card, entry, _w), pk in zip(cards, rows.ids(Card, len(cards)), strict=True):
        card.pk, card.deduction_id = pk, entry.pk
    for ref, c, card, _e, what in cards:
        event(
            ref,
            NodeEventKind.CARD_ISSUED,
            actor_id,
            c.issued_at,
            f"{KIND_WORDS[c.kind]}：{what}，扣{points_text(card.points)}分",
            card=card.pk,
            breached_at=c.breached_at.isoformat(),
            points=str(card.points),
        )
        if c.kind == CardKind.RED:
            done = ref.story.completed_at
            item = SupervisionItem(
                card_id=card.pk,
                node_id=ref.id,
                unit_id=ref.unit_id,
                opened_at=c.issued_at,
                status=ItemStatus.OPEN,
                ready_to_close_at=max(done, c.issued_at) if done else None,
            )
            item._history_date = c.issued_at
            items.append((ref, item))
    for (ref, item), pk in zip(items, rows.ids(SupervisionItem, len(items)), strict=True):
        item.pk = pk
        event(ref, NodeEventKind.ITEM_OPENED, actor_id, item.opened_at, "列入重点督办事项", item=pk)
    for (ref, r, rec), pk in zip(recs, rows.ids(Recommitment, len(recs)), strict=True):
        rec.pk = pk
        day = clock.local_date(r.submitted_at)
        event(
            ref,
            NodeEventKind.RECOMMITMENT_SUBMITTED,
            rec.submitted_by_id,
            r.submitted_at,
            f"提交重新承诺：{date_cn(r.new_due_date, today=day)}前完成",
            recommitment=pk,
            reason=rec.reason,
            new_due_date=r.new_due_date.isoformat(),
        )
        if r.decided_at is None:
            continue
        kind, message = {
            RecommitmentStatus.APPROVED: (
                NodeEventKind.RECOMMITMENT_APPROVED,
                "批准重新承诺："
                f"{date_cn(r.new_due_date, today=clock.local_date(r.decided_at))}前完成",
            ),
            RecommitmentStatus.REJECTED: (
                NodeEventKind.RECOMMITMENT_REJECTED,
                f"驳回重新承诺：{r.comment}",
            ),
            RecommitmentStatus.LAPSED: (NodeEventKind.RECOMMITMENT_LAPSED, r.comment),
        }[r.status]
        event(
            ref,
            kind,
            rec.decided_by_id or actor_id,
            r.decided_at,
            message,
            recommitment=pk,
            new_due_date=r.new_due_date.isoformat(),
        )
    rows.insert(ProgressReport, REPORT_COLUMNS, reports)
    result.add("进度报告", len(reports))
    rows.objects(PointsEntry, entries, when=catch_up, result=result, label="积分台账")
    rows.objects(Card, [c[2] for c in cards], when=catch_up, result=result, label="亮牌")
    rows.objects(
        SupervisionItem, [i for _r, i in items], when=catch_up, result=result, label="督办事项"
    )
    rows.objects(Recommitment, [r[2] for r in recs], when=catch_up, result=result, label="重新承诺")
    rows.insert(NodeEvent, EVENT_COLUMNS, events)
    result.add("节点动态", len(events))


def _breach_text(c: CardRow, env: Env) -> str:
    day = date_cn(c.deadline, today=clock.local_date(c.breached_at), weekday=False)
    match c.reason:
        case rules.Breach.GRACE:
            days = env.ctx.policy_on(clock.local_date(c.breached_at)).grace_workdays
            return f"未在{days}个工作日内提交重新承诺"
        case rules.Breach.COMMITTED:
            return f"超过承诺完成时间 {day}"
    return f"超过计划完成时间 {day}"


class _CachedCalendar:
    """The working calendar, each day asked once: a million nodes ask about the same days."""

    def __init__(self, calendar):
        self.calendar = calendar
        self.is_workday = functools.cache(calendar.is_workday)


class _Writer:
    """A thread that writes the chunks handed to it, each in its own transaction, in order."""

    def __init__(self, rows: Rows):
        self.rows = rows
        self.queue: queue.Queue = queue.Queue(maxsize=2)  # memory stays bounded
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="generate_scale-writer")
        self.thread.start()

    def _run(self) -> None:
        try:
            while (ops := self.queue.get()) is not None:
                if self.error is not None:
                    continue  # failed: drain, so the generator never blocks
                try:
                    with transaction.atomic():
                        for model, columns, rows in ops:
                            self.rows.write(model, columns, rows)
                except BaseException as exc:
                    self.error = exc
        finally:
            connections.close_all()

    def put(self, ops: list) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(ops)

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


class ScaleRefused(Exception):
    """The database is not empty: the generator writes a data set, it does not add to one."""


def scale_generate(
    *,
    projects: int,
    nodes_per_project: int,
    today: dt.date,
    overdue_fraction: float = 0.01,
    seed: int = 1,
    chunk: int = CHUNK_PROJECTS,
    progress: Callable[[str], None] | None = None,
    pipeline: bool = False,
) -> ScaleResult:
    """Write the synthetic data set into an empty, migrated database (see the module doc).

    With `pipeline`, a writer thread on its own connection writes each chunk while the next
    one is worked out (the command does so on PostgreSQL), committing chunk by chunk; called
    inside a transaction (a test's, say), it writes one chunk at a time on the caller's
    connection instead.
    """
    if projects < 1 or nodes_per_project < 1:
        raise ValueError("projects and nodes_per_project must be positive")
    if not 0 <= overdue_fraction <= 1:
        raise ValueError("overdue_fraction must be between 0 and 1")
    if Project.objects.exists() or Unit.objects.exists():
        raise ScaleRefused
    started = time.perf_counter()
    rng = random.Random(seed)
    catch_up, today_start = scale_instants(today)
    result = ScaleResult(today=today, catch_up=catch_up)
    total = projects * nodes_per_project
    overdue = set(rng.sample(range(total), round(total * overdue_fraction)))
    with transaction.atomic():
        actor = system_user()
        since = _at(today - dt.timedelta(days=800), 9)
        org = _org_build(rng, projects, actor, since, result)
    ctx = EscalationContext.load()
    ctx.calendar = _CachedCalendar(ctx.calendar)
    env = Env(
        rng=rng,
        org=org,
        ctx=ctx,
        actor=actor,
        rows=Rows(actor.pk),
        today=today,
        catch_up=catch_up,
        day_end=today_start + dt.timedelta(days=1) - dt.timedelta(seconds=1),
        nodes_per_project=nodes_per_project,
        overdue=overdue,
        result=result,
    )
    # Inside the caller's transaction (a test's, say) the writer's connection would not see
    # the rows written so far, nor should it commit on the caller's behalf: one at a time.
    writer = _Writer(env.rows) if pipeline and not connection.in_atomic_block else None
    try:
        for first in range(0, projects, chunk):
            if writer:
                env.rows.queued = []
                _chunk_write(env, first, min(chunk, projects - first))
                writer.put(env.rows.queued)
            else:
                with transaction.atomic():
                    _chunk_write(env, first, min(chunk, projects - first))
            if progress:
                done = min(first + chunk, projects)
                progress(f"{done}/{projects} 个项目，{time.perf_counter() - started:.1f} 秒")
    finally:
        env.rows.queued = None
        if writer:
            writer.finish()
    env.rows.sequences_reset()
    result.seconds = time.perf_counter() - started
    return result
