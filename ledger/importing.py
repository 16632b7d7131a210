"""Writing a ledger into projects, disposal lines and nodes: everything or nothing."""

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core import clock
from core.errors import Conflict
from core.i18n import in_record_language
from organization.choices import UnitKind
from organization.models import Unit, User
from organization.services import person_without_login_create
from projects.choices import CompletionSource
from projects.models import DisposalLine, Enterprise, Node, Project, WorkStream, land_stream_id
from supervision.services import node_backdate_card, node_change_due_date, node_complete

from .parsing import (
    DISPOSAL_HALF_BLANK,
    NAME_BY_METHOD,
    Col,
    LedgerError,
    LedgerRow,
    ParsedLedger,
    ledger_parse,
)

CHANGE_REASON = "台账导入"
USERNAME_LIKE = re.compile(r"[A-Za-z0-9_.@+-]+")
FULL_NAME_MAX = User._meta.get_field("full_name").max_length
TOWNSHIP_NAME = re.compile(r"[乡镇](?:人民政府|政府)?$")


# A summary names at most this many codes or names per list, then says how many more.
LISTED_MAX = 50


def more_text(count: int) -> str:
    return _("……另有%(count)s个未列出") % {"count": count}


def listed(names: list[str], limit: int = LISTED_MAX) -> str:
    """Names joined with 、, cut after `limit` with the count of the rest."""
    text = "、".join(names[:limit])
    if len(names) > limit:
        text += more_text(len(names) - limit)
    return text


@dataclass
class LedgerImportResult:
    """What an import did (or, with dry_run, would do), or every error that stopped it."""

    dry_run: bool = False
    errors: list[LedgerError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    projects_created: list[str] = field(default_factory=list)
    projects_updated: list[str] = field(default_factory=list)
    projects_unchanged: list[str] = field(default_factory=list)
    nodes_created: list[str] = field(default_factory=list)
    nodes_updated: list[str] = field(default_factory=list)
    nodes_unchanged: list[str] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    enterprises_created: list[str] = field(default_factory=list)
    leaders_created: list[str] = field(default_factory=list)
    nodes_missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        """The report a person reads after a good import, in Chinese."""
        lines = [
            _("试运行：校验通过，以下是将要导入的内容，数据库未作任何修改。")
            if self.dry_run
            else _("台账导入完成。"),
            _("项目：新建%(created)s个，更新%(updated)s个，无变化%(unchanged)s个")
            % {
                "created": len(self.projects_created),
                "updated": len(self.projects_updated),
                "unchanged": len(self.projects_unchanged),
            },
            _("节点：新建%(created)s个，更新%(updated)s个，无变化%(unchanged)s个")
            % {
                "created": len(self.nodes_created),
                "updated": len(self.nodes_updated),
                "unchanged": len(self.nodes_unchanged),
            },
        ]
        if self.projects_created:
            lines.append(_("新建项目：%(codes)s") % {"codes": listed(self.projects_created)})
        if self.projects_updated:
            lines.append(_("更新项目：%(codes)s") % {"codes": listed(self.projects_updated)})
        if self.units_created:
            lines.append(
                _("新建责任单位%(count)s个：%(names)s")
                % {"count": len(self.units_created), "names": listed(self.units_created)}
            )
        if self.enterprises_created:
            lines.append(
                _("新建企业%(count)s个：%(names)s")
                % {
                    "count": len(self.enterprises_created),
                    "names": listed(self.enterprises_created),
                }
            )
        if self.leaders_created:
            lines.append(
                _(
                    "新建包保领导%(count)s人（暂无登录账号，可用 add_user 以同一姓名开通）：%(names)s"
                )
                % {
                    "count": len(self.leaders_created),
                    "names": listed(self.leaders_created),
                }
            )
        if self.nodes_missing:
            lines.append(
                _("系统中有而台账中没有的节点%(count)s个（未删除，请核对）：")
                % {"count": len(self.nodes_missing)}
            )
            lines += [f"  {label}" for label in self.nodes_missing[:LISTED_MAX]]
            if len(self.nodes_missing) > LISTED_MAX:
                lines.append("  " + more_text(len(self.nodes_missing) - LISTED_MAX))
        lines += [_("警告：%(message)s") % {"message": warning} for warning in self.warnings]
        return lines


@in_record_language
def ledger_import(
    *, path_or_file: str | Path | BinaryIO, actor: User, dry_run: bool = False
) -> LedgerImportResult:
    """Import a county ledger: check every row, then create or update all of it, or nothing.

    Matches projects by code and nodes by (code, seq); never deletes. With dry_run the
    writes are made and rolled back, so the summary is exactly what a real run would do.
    """
    result = LedgerImportResult(dry_run=dry_run)
    parsed = ledger_parse(path_or_file, today=clock.today())
    result.errors.extend(parsed.errors)
    try:
        with transaction.atomic():
            plan = _Plan.load(parsed)
            result.errors.extend(plan.check(parsed.cells))
            result.errors.sort(key=LedgerError.sort_key)
            if result.errors:
                return result
            plan.write(actor=actor, result=result)
            if dry_run:
                transaction.set_rollback(True)
    except _WriteFailed as exc:
        result.errors.append(exc.error)
    return result


class _WriteFailed(Exception):
    """A save failed its model validation; the transaction rolls back."""

    def __init__(self, error: LedgerError):
        super().__init__(str(error))
        self.error = error


@dataclass
class _Plan:
    """The file's rows by project, and what the database already holds for them (locked)."""

    rows_by_project: dict[str, list[LedgerRow]]
    projects: dict[str, Project]
    nodes: dict[tuple[str, int], Node]
    lines: dict[int, dict[str, DisposalLine]]
    units: dict[str, Unit]
    enterprises: dict[str, Enterprise]
    users: list[User]
    streams: dict[str, WorkStream]  # by name and by code
    land: WorkStream
    # The 专项 the file names for each project code (its first row that names one).
    named: dict[str, str]
    by_id: dict[int, WorkStream]

    @classmethod
    def load(cls, parsed: ParsedLedger) -> "_Plan":
        """Read (and lock) the projects, nodes, units, enterprises and users the file names."""
        rows_by_project: dict[str, list[LedgerRow]] = {}
        for row in parsed.rows:
            rows_by_project.setdefault(row.project_code, []).append(row)
        cells = [values for _number, values in parsed.cells]
        codes = {v[Col.CODE] for v in cells if Col.CODE in v}
        projects = {
            p.code: p
            for p in Project.objects.select_for_update().filter(code__in=codes).order_by("pk")
        }
        code_by_id = {p.pk: p.code for p in projects.values()}
        nodes = {
            (code_by_id[n.project_id], n.seq): n
            for n in Node.objects.select_for_update(of=("self",))
            .filter(project_id__in=code_by_id)
            .order_by("pk")
        }
        lines: dict[int, dict[str, DisposalLine]] = {}
        for line in (
            DisposalLine.objects.select_for_update(of=("self",))
            .filter(project_id__in=code_by_id)
            .order_by("pk")
        ):
            lines.setdefault(line.project_id, {})[line.method] = line
        unit_names = {v[c] for v in cells for c in (Col.LOCALITY, Col.UNIT) if c in v}
        leader_names = {v[Col.LEADER] for v in cells if Col.LEADER in v}
        enterprise_names = {row.enterprise for row in parsed.rows if row.enterprise}
        streams = list(WorkStream.objects.all())
        land = next((s for s in streams if s.is_land), None)
        if land is None:
            land = WorkStream.objects.get(pk=land_stream_id())
            streams.append(land)
        named: dict[str, str] = {}
        for v in cells:
            if v.get(Col.CODE) and v.get(Col.STREAM):
                named.setdefault(v[Col.CODE], v[Col.STREAM])
        return cls(
            rows_by_project=rows_by_project,
            projects=projects,
            nodes=nodes,
            lines=lines,
            units={u.name: u for u in Unit.objects.filter(name__in=unit_names)},
            enterprises={e.name: e for e in Enterprise.objects.filter(name__in=enterprise_names)},
            users=list(
                User.objects.filter(
                    Q(username__in=leader_names) | Q(full_name__in=leader_names), is_active=True
                )
            ),
            streams={key: s for s in streams for key in (s.code, s.name)},
            land=land,
            named=named,
            by_id={s.pk: s for s in streams},
        )

    def stream(self, code: str | None, name: str = "") -> WorkStream | None:
        """The stream a row's project ends up in: the one its 专项 cell names (name or code);
        when blank, the one another row of the project names; when no row names one, the
        project's own stream, or the land stream for a new project. So a file without the
        column (or with it left blank) never moves a project out of its stream. None: the
        name is not a stream's."""
        name = name or self.named.get(code, "")
        if name:
            return self.streams.get(name)
        project = self.projects.get(code)
        return self.by_id[project.work_stream_id] if project else self.land

    def check(self, cells: list[tuple[int, dict[str, Any]]]) -> list[LedgerError]:
        """Errors only the database can reveal (units, leaders, completed nodes), on every row.

        Bad rows are checked too, on their readable cells, so that one run lists every error.
        A project's locality and leader are checked once, on the first row that names them.
        """
        errors = []
        seen: set[tuple] = set()
        for number, v in cells:
            code = v.get(Col.CODE)
            locality = self.units.get(v.get(Col.LOCALITY))
            if locality is not None and (code, Col.LOCALITY, locality.name) not in seen:
                seen.add((code, Col.LOCALITY, locality.name))
                if not locality.is_locality:
                    message = _("“%(name)s”在系统中是县直部门，不能作为乡镇园区")
                elif not locality.is_active:
                    message = _("“%(name)s”在系统中已停用")
                else:
                    message = ""
                if message:
                    errors.append(
                        LedgerError(message % {"name": locality.name}, number, Col.LOCALITY)
                    )
            leader_name = v.get(Col.LEADER)
            if leader_name and (code, Col.LEADER, leader_name) not in seen:
                seen.add((code, Col.LEADER, leader_name))
                _leader, message = self.leader(leader_name)
                if message:
                    errors.append(LedgerError(message, number, Col.LEADER))
            unit = self.units.get(v.get(Col.UNIT))
            if unit is not None and not unit.is_active and unit.name != v.get(Col.LOCALITY):
                errors.append(
                    LedgerError(
                        _("“%(name)s”在系统中已停用") % {"name": unit.name}, number, Col.UNIT
                    )
                )
            errors += self._check_stream(number, v, seen)
            node = self.nodes.get((code, v.get(Col.SEQ)))
            completed_on = v.get(Col.COMPLETED)
            if node is not None and node.completed_at and completed_on:
                done_on = clock.local_date(node.completed_at)
                if done_on != completed_on:
                    errors.append(
                        LedgerError(
                            _("与系统中已办结时间不一致（系统中为%(date)s）")
                            % {"date": done_on.isoformat()},
                            number,
                            Col.COMPLETED,
                        )
                    )
        return errors

    def _check_stream(self, number: int, v: dict[str, Any], seen: set[tuple]) -> list:
        """The 专项 a row names exists; disposal cells are filled on the rows of a project
        that ends up in the land stream and left blank on the others' (the parser leaves
        that to this check: only the database knows an existing project's stream)."""
        name = v.get(Col.STREAM, "")
        stream = self.stream(v.get(Col.CODE), name)
        if stream is None and not name:
            return []  # another row of the project names an unknown stream: refused there
        if stream is None:
            if (v.get(Col.CODE), Col.STREAM, name) in seen:
                return []
            seen.add((v.get(Col.CODE), Col.STREAM, name))
            known = "、".join(sorted({s.name for s in self.streams.values()}))
            message = _("系统中没有名为“%(name)s”的专项（现有：%(known)s）")
            return [LedgerError(message % {"name": name, "known": known}, number, Col.STREAM)]
        disposal = v.get("disposal")
        half_blank = v.get(DISPOSAL_HALF_BLANK, ())
        if stream.is_land and disposal == ():
            return [
                LedgerError(_("不能为空"), number, column) for column in (Col.METHODS, Col.AREAS)
            ]
        if stream.is_land:
            return [LedgerError(_("不能为空"), number, column) for column in half_blank]
        if not (disposal or half_blank):
            return []
        if name or v.get(Col.CODE) in self.named:
            message = _("“%(name)s”不是土地处置专项，处置方式和面积应留空")
        else:
            # An older file (or a blank 专项 cell): the project keeps the stream it has.
            message = _(
                "项目“%(code)s”在系统中属于“%(name)s”，不是土地处置专项，处置方式和面积应留空"
                "（如确需改为“%(land)s”，请在专项列注明）"
            )
        values = {"code": v.get(Col.CODE), "name": stream.name, "land": self.land.name}
        return [LedgerError(message % values, number, Col.METHODS)]

    def leader(self, name: str) -> tuple[User | None, str]:
        """The active user a 包保领导 cell names (username first, then full name), or why not.

        (None, "") is a name nobody bears yet: the import records that person, without a
        login. A cell that reads as a username (Latin letters, digits, . @ + - _) and
        matches nobody is a typo, not a new person.
        """
        by_username = [u for u in self.users if u.username == name]
        if by_username:
            return by_username[0], ""
        by_full_name = [u for u in self.users if u.full_name == name]
        if len(by_full_name) == 1:
            return by_full_name[0], ""
        if by_full_name:
            return None, _("系统中有%(count)s个用户姓名为“%(name)s”，请改填用户名") % {
                "count": len(by_full_name),
                "name": name,
            }
        if USERNAME_LIKE.fullmatch(name):
            return None, _("系统中没有用户名为“%(name)s”的用户；新的包保领导请填写其姓名") % {
                "name": name
            }
        if len(name) > FULL_NAME_MAX:
            return None, _("系统中没有用户名为“%(name)s”的用户，作为姓名又超过%(max)s个字符") % {
                "name": name,
                "max": FULL_NAME_MAX,
            }
        return None, ""

    def _leader(self, name: str, *, actor: User, row: int, result: LedgerImportResult) -> User:
        """The user the cell names; a name nobody bears is recorded as a person without a login."""
        leader, _message = self.leader(name)
        if leader is None:
            try:
                leader = person_without_login_create(
                    full_name=name, actor=actor, reason=CHANGE_REASON, username_prefix="台账-"
                )
            except ValidationError as exc:
                raise _WriteFailed(LedgerError("；".join(exc.messages), row, Col.LEADER)) from None
            self.users.append(leader)
            result.leaders_created.append(name)
        return leader

    def write(self, *, actor: User, result: LedgerImportResult) -> None:
        """Create or update units, enterprises, projects, disposal lines and nodes."""
        for rows in self.rows_by_project.values():
            name = rows[0].locality
            if name not in self.units:
                kind = UnitKind.PARK if _is_park(name) else UnitKind.TOWNSHIP
                self._unit_create(name, kind, actor=actor, row=rows[0].row, result=result)
        for code, rows in self.rows_by_project.items():
            project = self._project_upsert(code, rows, actor=actor, result=result)
            for row in rows:
                self._node_upsert(project, row, actor=actor, result=result)
            seqs = {row.seq for row in rows}
            result.nodes_missing += [
                f"{code}-{seq} {node.name}"
                for (node_code, seq), node in sorted(self.nodes.items(), key=lambda i: i[0][1])
                if node_code == code and seq not in seqs
            ]

    def _unit_create(
        self, name: str, kind: str, *, actor: User, row: int, result: LedgerImportResult
    ) -> Unit:
        unit = Unit(name=name, kind=kind)
        _save(unit, actor=actor, row=row)
        self.units[name] = unit
        result.units_created.append(name)
        return unit

    def _project_upsert(
        self, code: str, rows: list[LedgerRow], *, actor: User, result: LedgerImportResult
    ) -> Project:
        """Create or update the project and its disposal lines from its rows."""
        first = rows[0]
        locality = self.units[first.locality]
        # The file's stream (rows agree: parsing); none named keeps an existing project's.
        stream = self.stream(code)
        values: dict = {"name": first.project_name, "locality": locality, "work_stream": stream}
        enterprise_name = next((row.enterprise for row in rows if row.enterprise), "")
        if enterprise_name:
            values["enterprise"] = self._enterprise(
                enterprise_name, locality, actor=actor, row=first.row, result=result
            )
        leader_name = next((row.leader for row in rows if row.leader), "")
        if leader_name:
            values["leader"] = self._leader(leader_name, actor=actor, row=first.row, result=result)
        project = self.projects.get(code)
        created = project is None
        if created:
            project = Project(code=code)
        changed = _assign(project, **values)
        if changed:
            _save(project, actor=actor, row=first.row)
        # Rows agree on the disposal except where a row naming its stream left it blank.
        disposal_row = next((row for row in rows if row.disposal), first)
        lines_changed = self._lines_update(project, disposal_row, actor=actor, result=result)
        if created:
            result.projects_created.append(code)
        elif changed or lines_changed:
            result.projects_updated.append(code)
        else:
            result.projects_unchanged.append(code)
        return project

    def _enterprise(
        self, name: str, locality: Unit, *, actor: User, row: int, result: LedgerImportResult
    ) -> Enterprise:
        enterprise = self.enterprises.get(name)
        if enterprise is None:
            enterprise = Enterprise(name=name, locality=locality)
            _save(enterprise, actor=actor, row=row, column=Col.ENTERPRISE)
            self.enterprises[name] = enterprise
            result.enterprises_created.append(name)
        return enterprise

    def _lines_update(
        self, project: Project, row: LedgerRow, *, actor: User, result: LedgerImportResult
    ) -> bool:
        """Bring the disposal lines to the file's; one the file lacks stays, with a warning."""
        existing = self.lines.get(project.pk, {})
        changed = False
        for method, area in row.disposal:
            line = existing.get(method)
            if line is None:
                line = DisposalLine(project=project, method=method, area_mu=area)
            elif line.area_mu == area:
                continue
            else:
                line.area_mu = area
            _save(line, actor=actor, row=row.row, column=Col.AREAS)
            changed = True
        in_file = {method for method, _area in row.disposal}
        for method, line in existing.items():
            if method not in in_file:
                result.warnings.append(
                    _(
                        "项目“%(code)s”在系统中的处置方式“%(method)s”（%(area)s亩）台账中没有，已保留，请核对"
                    )
                    % {"code": project.code, "method": NAME_BY_METHOD[method], "area": line.area_mu}
                )
        return changed

    def _node_upsert(
        self, project: Project, row: LedgerRow, *, actor: User, result: LedgerImportResult
    ) -> None:
        """Create or update one node; its planned date and completion go through their services."""
        unit = self.units.get(row.unit)
        if unit is None:
            unit = self._unit_create(
                row.unit, _unit_kind(row.unit), actor=actor, row=row.row, result=result
            )
        label = f"{project.code}-{row.seq}"
        node = self.nodes.get((project.code, row.seq))
        created = node is None
        values: dict = {"name": row.node_name, "unit": unit}
        if row.owner:
            values["owner"] = row.owner
        if created:
            node = Node(project=project, seq=row.seq, due_date=row.due_date)
        changed = _assign(node, **values)
        if changed:
            _save(node, actor=actor, row=row.row)
        due_moved = not created and node.due_date != row.due_date
        if due_moved:
            # The county's ledger is the record of what was planned: a date it moves into
            # the past is taken as confirmed (the office previewed the import and confirmed
            # it), and the card that follows is named in the summary's warnings.
            _call(
                node_change_due_date,
                row.row,
                Col.DUE,
                node=node,
                actor=actor,
                due_date=row.due_date,
                reason=CHANGE_REASON,
                confirm_backdate=True,
            )
            changed = True
        if row.completed_on is not None and node.completed_at is None:
            _call(
                node_complete,
                row.row,
                Col.COMPLETED,
                node=node,
                actor=actor,
                source=CompletionSource.LEDGER,
                completed_at=_completed_at(row.completed_on),
            )
            changed = True
        if due_moved:
            card = node_backdate_card(node=Node.objects.get(pk=node.pk), due_date=row.due_date)
            if card:
                result.warnings.append(_("第%(row)s行：%(card)s") % {"row": row.row, "card": card})
        if not changed:
            result.nodes_unchanged.append(label)
        else:
            (result.nodes_created if created else result.nodes_updated).append(label)


def _assign(instance: models.Model, **values) -> bool:
    """Set the given fields on the instance; True when any of them changed."""
    changed = instance._state.adding
    for name, value in values.items():
        model_field = instance._meta.get_field(name)
        new = value.pk if model_field.is_relation and value is not None else value
        if getattr(instance, model_field.attname) != new:
            setattr(instance, name, value)
            changed = True
    return changed


def _call(service, row: int, column: str | None, **kwargs) -> None:
    """Call a node service for a row; a refusal it raises aborts the whole import at that row."""
    try:
        service(**kwargs)
    except ValidationError as exc:
        raise _WriteFailed(LedgerError("；".join(exc.messages), row, column)) from None
    except (PermissionDenied, Conflict) as exc:
        raise _WriteFailed(LedgerError(str(exc), row, column)) from None


def _save(instance: models.Model, *, actor: User, row: int, column: str | None = None) -> None:
    """full_clean, then save with the import's history user and reason; a failure aborts all."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise _WriteFailed(LedgerError("；".join(exc.messages), row, column)) from None
    instance._history_user = actor
    instance._change_reason = CHANGE_REASON
    instance.save()


def _completed_at(day: dt.date) -> dt.datetime:
    """A completion the ledger dates to a day counts as done by the end of that day."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=clock.local_tz())


def _is_park(name: str) -> bool:
    """Parks: 园区, 开发区, 工业园, 产业园, or any name ending in 园 (桃花工业园, 新港园)."""
    return any(word in name for word in ("园区", "开发区", "工业园", "产业园")) or name.endswith(
        "园"
    )


def _unit_kind(name: str) -> str:
    """The kind of a new responsible unit, from its name.

    A name ending in 乡 or 镇 (or 乡/镇人民政府) is a township: a bare "contains 乡" would
    make 县住房和城乡建设局 or 县乡村振兴局 a township.
    """
    if _is_park(name):
        return UnitKind.PARK
    if TOWNSHIP_NAME.search(name):
        return UnitKind.TOWNSHIP
    return UnitKind.DEPARTMENT
