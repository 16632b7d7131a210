"""Reading a ledger (台账) file into typed rows and a list of errors; pure, no database."""

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException

from core.tabular import unneutralise
from organization.models import Unit, User
from projects.choices import DisposalMethod
from projects.models import Enterprise, Node, Project, WorkStream
from projects.validators import plan_date_error


class Col:
    """The ledger's column headers: they are the file format, so they are not translated."""

    CODE = "项目编号"
    NAME = "项目名称"
    LOCALITY = "乡镇园区"
    ENTERPRISE = "企业名称"
    METHODS = "处置方式"
    AREAS = "面积(亩)"
    SEQ = "节点序号"
    NODE_NAME = "节点名称"
    UNIT = "责任单位"
    DUE = "计划完成日期"
    COMPLETED = "完成日期"
    OWNER = "责任人"
    LEADER = "包保领导"
    STREAM = "专项"


COLUMNS = (
    Col.CODE,
    Col.NAME,
    Col.LOCALITY,
    Col.ENTERPRISE,
    Col.METHODS,
    Col.AREAS,
    Col.SEQ,
    Col.NODE_NAME,
    Col.UNIT,
    Col.DUE,
    Col.COMPLETED,
    Col.OWNER,
    Col.LEADER,
    Col.STREAM,
)
REQUIRED = (
    Col.CODE,
    Col.NAME,
    Col.LOCALITY,
    Col.METHODS,
    Col.AREAS,
    Col.SEQ,
    Col.NODE_NAME,
    Col.UNIT,
    Col.DUE,
)
HEADER_SCAN_ROWS = 10

# The ledger is written in Chinese whatever the UI language, so match the Chinese names.
METHOD_BY_NAME = {
    "收储收回": DisposalMethod.TAKEBACK,
    "嫁接盘活": DisposalMethod.GRAFTING,
    "自主提升": DisposalMethod.SELF_UPGRADE,
}
NAME_BY_METHOD = {value: name for name, value in METHOD_BY_NAME.items()}

# Longest text each column may hold, from the model fields it lands in.
MAX_LENGTH = {
    Col.CODE: Project._meta.get_field("code").max_length,
    Col.NAME: Project._meta.get_field("name").max_length,
    Col.LOCALITY: Unit._meta.get_field("name").max_length,
    Col.ENTERPRISE: Enterprise._meta.get_field("name").max_length,
    Col.NODE_NAME: Node._meta.get_field("name").max_length,
    Col.UNIT: Unit._meta.get_field("name").max_length,
    Col.OWNER: Node._meta.get_field("owner").max_length,
    Col.LEADER: max(
        User._meta.get_field("full_name").max_length, User._meta.get_field("username").max_length
    ),
    Col.STREAM: max(
        WorkStream._meta.get_field("name").max_length,
        WorkStream._meta.get_field("code").max_length,
    ),
}
AREA_MAX = Decimal("1e10")  # DisposalLine.area_mu: max_digits=12, decimal_places=2
SEQ_MAX = 2**31 - 1  # Node.seq is a PositiveIntegerField

DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
METHOD_SEPARATORS = re.compile(r"[+、]")
INTEGER = re.compile(r"^\d+(?:\.0*)?$")


# -- cells ---------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as stripped text; whole numbers without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time.min else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class LedgerError:
    """One problem in the file: the row Excel shows, the column header and the reason."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return _("第%(row)s行 %(column)s：%(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.row is not None:
            return _("第%(row)s行：%(message)s") % {"row": self.row, "message": self.message}
        return self.message

    def sort_key(self) -> tuple:
        column = COLUMNS.index(self.column) if self.column in COLUMNS else -1
        return (self.row or 0, column)


@dataclass(frozen=True)
class LedgerRow:
    """One valid ledger row: one node, with its project's values repeated."""

    row: int
    project_code: str
    project_name: str
    locality: str
    enterprise: str  # "" when not given
    disposal: tuple[tuple[str, Decimal], ...]  # (method, area) in file order; () off land
    seq: int
    node_name: str
    unit: str
    due_date: dt.date
    completed_on: dt.date | None
    owner: str  # "" when not given
    leader: str  # "" when not given
    # The 专项 cell: a stream's name or code; "" keeps an existing project's stream (the
    # land stream for a new project).
    work_stream: str = ""


@dataclass
class ParsedLedger:
    """The valid rows of a file and every error found in it."""

    rows: list[LedgerRow] = field(default_factory=list)
    errors: list[LedgerError] = field(default_factory=list)
    header_row: int | None = None
    # Every non-empty row's readable cells (bad rows too), for the checks the database makes.
    cells: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def ledger_parse(path_or_file: str | Path | BinaryIO, *, today: dt.date) -> ParsedLedger:
    """Turn a ledger file (.xlsx or .csv) into typed rows, collecting every error."""
    parsed = ParsedLedger()
    try:
        table = read_table(path_or_file)
    except LedgerFileError as exc:
        parsed.errors.append(LedgerError(str(exc)))
        return parsed
    header_row, columns, header_errors = find_header(table)
    parsed.header_row = header_row
    if header_errors:
        parsed.errors.extend(header_errors)
        return parsed
    raw_rows = []
    for number, cells in table:
        if number <= header_row:
            continue
        raw = RawRow(number)
        for column, index in columns.items():
            raw.cells[column] = cells[index] if index < len(cells) else None
        if all(is_blank(value) for value in raw.cells.values()):
            continue  # an empty row, or one with only notes in columns the import ignores
        parse_cells(raw, today=today)
        raw_rows.append(raw)
    check_across_rows(raw_rows)
    for raw in raw_rows:
        parsed.cells.append((raw.number, raw.values))
        parsed.errors.extend(raw.errors)
        # A half-filled disposal pair without a 专项 waits for the database's check, which
        # refuses it whatever the project's stream: the row is not a good one.
        if not raw.errors and "disposal" in raw.values:
            parsed.rows.append(raw.to_row())
    parsed.errors.sort(key=LedgerError.sort_key)
    return parsed


# -- reading the table ---------------------------------------------------------------------


class LedgerFileError(Exception):
    """The file cannot be read as a table at all."""


# Limits that keep a hostile or mistaken file from taking the server's memory or minutes.
# A county's ledger is a few hundred rows, tens of kilobytes; the limits sit far above that.
MAX_FILE_BYTES = 5 * 1024 * 1024
# An .xlsx is a zip: the sizes its members declare, added up, may not pass this. Python's
# zipfile never inflates a member past its declared size (it stops and fails the CRC), so
# checking the declarations before openpyxl opens the file bounds the work it can do.
XLSX_UNZIPPED_MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 50_000  # non-blank rows, the header and title rows included
MAX_COLUMNS = 100  # cells further right are never read (the ledger has 13 columns)


def read_table(path_or_file: str | Path | BinaryIO) -> list[tuple[int, list[Any]]]:
    """The non-blank rows of the file's first (active) sheet as (row number Excel shows,
    cell values), within the limits above."""
    data = read_bytes(path_or_file)
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise LedgerFileError(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后导入。"))
    return read_csv(data)


def _too_large() -> LedgerFileError:
    return LedgerFileError(
        _("文件超过%(mb)sMB，台账文件不应这么大。") % {"mb": MAX_FILE_BYTES // 1024 // 1024}
    )


def read_bytes(path_or_file: str | Path | BinaryIO) -> bytes:
    """The file's bytes, refused unread when there are more than MAX_FILE_BYTES."""
    if isinstance(path_or_file, (str, Path)):
        try:
            with Path(path_or_file).open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError:
            raise LedgerFileError(_("无法读取文件“%(path)s”。") % {"path": path_or_file}) from None
    else:
        data = path_or_file.read(MAX_FILE_BYTES + 1)
        data = data.encode("utf-8") if isinstance(data, str) else data
    if len(data) > MAX_FILE_BYTES:
        raise _too_large()
    return data


def xlsx_check_unzipped_size(data: bytes) -> None:
    """Refuse an .xlsx whose members declare more than XLSX_UNZIPPED_MAX_BYTES (a zip bomb),
    from the zip's directory alone: nothing is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise LedgerFileError(_("无法读取 Excel 文件，文件可能已损坏。")) from None
    if declared > XLSX_UNZIPPED_MAX_BYTES:
        raise LedgerFileError(_("Excel 文件解压后过大，无法导入。"))


def _too_many_rows() -> LedgerFileError:
    return LedgerFileError(
        _("台账超过%(max)s行，无法导入；请分成几个文件。") % {"max": f"{MAX_ROWS:,}"}
    )


def _kept_rows(rows) -> list[tuple[int, list[Any]]]:
    """The non-blank rows, at most MAX_ROWS of them and MAX_COLUMNS cells each."""
    kept = []
    for number, values in rows:
        # A cell an export neutralised against formulas ('=…) reads back as the text it was.
        values = [unneutralise(value) for value in values[:MAX_COLUMNS]]
        if all(is_blank(value) for value in values):
            continue  # formatted empty rows, down to row 1,048,576 in some files
        if len(kept) == MAX_ROWS:
            raise _too_many_rows()
        kept.append((number, values))
    return kept


def read_xlsx(data: bytes) -> list[tuple[int, list[Any]]]:
    xlsx_check_unzipped_size(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise LedgerFileError(_("无法读取 Excel 文件，文件可能已损坏。")) from None
    try:
        sheet = workbook.active or workbook.worksheets[0]
        # Some programs write a wrong <dimension>; read every cell there is.
        sheet.reset_dimensions()
        formulas: list[str] = []
        table = _kept_rows(_xlsx_rows(sheet, formulas))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise LedgerFileError(_("无法读取 Excel 文件，文件可能已损坏。")) from None
    finally:
        workbook.close()
    if formulas:
        shown = "、".join(formulas[:FORMULAS_SHOWN])
        more = len(formulas) - FORMULAS_SHOWN
        raise LedgerFileError(
            _(
                "台账中有%(count)s个公式单元格（%(cells)s%(more)s）：请在 Excel 中复制后“选择性粘贴→数值”，再导入。"
            )
            % {
                "count": len(formulas),
                "cells": shown,
                "more": _("等") if more > 0 else "",
            }
        )
    return table


FORMULAS_SHOWN = 10


def _xlsx_rows(sheet, formulas: list[str]):
    """(row number, values) of the sheet, MAX_COLUMNS wide, formulas noted and left out."""
    filler = None
    for number, cells in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        # openpyxl yields one shared tuple for every row missing from the file: a sheet
        # with cells in rows 1 and 1,048,576 must not cost a million row checks.
        if cells is filler:
            continue
        if all(getattr(cell, "value", None) is None for cell in cells):
            filler = cells
            continue
        yield _values_refusing_formulas(number, cells, formulas)


def _values_refusing_formulas(number: int, cells, formulas: list[str]) -> tuple[int, list[Any]]:
    """A row's values; each formula cell noted by its Excel name (K5) in `formulas`.

    A formula is never imported, neither its text nor the result Excel cached for it: the
    cached result need not match the formula (any program can write the file), and the
    record must be what the county typed. Text that merely starts with =, +, - or @ (a
    typed cell, not a formula) is kept as text, and so is such text that an export wrote
    with a leading apostrophe (core.tabular.neutralise): the apostrophe is taken off.
    """
    values = []
    for cell in cells:
        if getattr(cell, "data_type", None) == "f":
            formulas.append(getattr(cell, "coordinate", None) or str(number))
            values.append(None)
        else:
            values.append(cell.value)
    return number, values


def read_csv(data: bytes) -> list[tuple[int, list[Any]]]:
    """CSV as Excel in China writes it: UTF-8 (with or without BOM) or GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LedgerFileError(_("无法识别文件编码，请以 UTF-8 或 GB18030（ANSI）编码保存 CSV。"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _kept_rows(enumerate(reader, start=1))
    except csv.Error:
        raise LedgerFileError(_("CSV 文件格式错误，无法读取。")) from None


def normalize_header(value: Any) -> str:
    """Header text compared without spaces, width or brackets: 面积（亩） == 面积(亩) == 面积亩."""
    text = unicodedata.normalize("NFKC", cell_text(value))
    return re.sub(r"[\s()]", "", text)


HEADER_KEYS = {normalize_header(column): column for column in COLUMNS}


def find_header(
    table: list[tuple[int, list[Any]]],
) -> tuple[int | None, dict[str, int], list[LedgerError]]:
    """The header row among the first rows: its number, column positions and any errors."""
    best: tuple[int, dict[str, int], list[LedgerError]] | None = None
    for number, cells in table[:HEADER_SCAN_ROWS]:
        columns: dict[str, int] = {}
        errors = []
        for index, value in enumerate(cells):
            column = HEADER_KEYS.get(normalize_header(value))
            if column is None:
                continue
            if column in columns:
                errors.append(LedgerError(_("表头中此列出现了两次"), number, column))
                continue
            columns[column] = index
        if all(column in columns for column in REQUIRED):
            return number, columns, errors
        if columns and (best is None or len(columns) > len(best[1])):
            best = (number, columns, errors)
    if best is None:
        return (
            None,
            {},
            [
                LedgerError(
                    _("前%(count)s行中未找到表头，表头须包含以下列：%(columns)s")
                    % {"count": HEADER_SCAN_ROWS, "columns": "、".join(REQUIRED)}
                )
            ],
        )
    number, columns, errors = best
    errors += [
        LedgerError(_("缺少此列"), number, column) for column in REQUIRED if column not in columns
    ]
    return number, columns, sorted(errors, key=LedgerError.sort_key)


# -- one row -------------------------------------------------------------------------------


class RawRow:
    """A row being parsed: its cells, the values parsed so far and its errors."""

    def __init__(self, number: int):
        self.number = number
        self.cells: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.errors: list[LedgerError] = []

    def error(self, column: str, message: str) -> None:
        self.errors.append(LedgerError(message, self.number, column))

    def valid(self, column: str) -> bool:
        return column in self.values

    def to_row(self) -> LedgerRow:
        v = self.values
        return LedgerRow(
            row=self.number,
            project_code=v[Col.CODE],
            project_name=v[Col.NAME],
            locality=v[Col.LOCALITY],
            enterprise=v.get(Col.ENTERPRISE, ""),
            disposal=v["disposal"],
            seq=v[Col.SEQ],
            node_name=v[Col.NODE_NAME],
            unit=v[Col.UNIT],
            due_date=v[Col.DUE],
            completed_on=v.get(Col.COMPLETED),
            owner=v.get(Col.OWNER, ""),
            leader=v.get(Col.LEADER, ""),
            work_stream=v.get(Col.STREAM, ""),
        )


TEXT_COLUMNS = (
    Col.CODE,
    Col.NAME,
    Col.LOCALITY,
    Col.ENTERPRISE,
    Col.NODE_NAME,
    Col.UNIT,
    Col.OWNER,
    Col.LEADER,
    Col.STREAM,
)
# Required only of the rows of a project that ends up in the land stream: the database tells
# which stream that is (importing._Plan.check), since a row that names no stream keeps an
# existing project's. A row's values hold under this key the blank one of a half-filled pair
# on a row that names no stream: "不能为空" on land, refused as disposal off it.
DISPOSAL_COLUMNS = (Col.METHODS, Col.AREAS)
DISPOSAL_HALF_BLANK = "disposal_half_blank"


def parse_cells(raw: RawRow, *, today: dt.date) -> None:
    """Parse each cell of the row into raw.values, recording an error per bad cell."""
    names_stream = not is_blank(raw.cells.get(Col.STREAM))
    for column in COLUMNS:
        value = raw.cells.get(column)
        if is_blank(value):
            if column in REQUIRED and column not in DISPOSAL_COLUMNS:
                raw.error(column, _("不能为空"))
            continue
        if column in TEXT_COLUMNS:
            text = cell_text(value)
            if len(text) > MAX_LENGTH[column]:
                raw.error(column, _("超过%(limit)s个字符") % {"limit": MAX_LENGTH[column]})
            else:
                raw.values[column] = text
            continue
        try:
            raw.values[column] = PARSERS[column](value)
        except CellError as exc:
            raw.error(column, str(exc))
    completed = raw.values.get(Col.COMPLETED)
    if completed is not None and completed > today:
        raw.error(
            Col.COMPLETED,
            _("“%(date)s”晚于今天，完成日期不能是将来的日期") % {"date": completed.isoformat()},
        )
        del raw.values[Col.COMPLETED]
    if raw.valid(Col.METHODS) and raw.valid(Col.AREAS):
        methods, areas = raw.values[Col.METHODS], raw.values[Col.AREAS]
        if len(methods) != len(areas):
            raw.error(
                Col.AREAS,
                _("填写了%(areas)s个面积，但处置方式有%(methods)s种，应按顺序一一对应")
                % {"areas": len(areas), "methods": len(methods)},
            )
        else:
            raw.values["disposal"] = tuple(zip(methods, areas, strict=True))
    elif all(is_blank(raw.cells.get(c)) for c in DISPOSAL_COLUMNS):
        raw.values["disposal"] = ()  # another stream's project, or a land one (checked later)
    elif names_stream:
        for column in DISPOSAL_COLUMNS:
            if is_blank(raw.cells.get(column)):
                raw.error(column, _("处置方式与面积须一同填写或一同留空"))
    else:
        blank = tuple(c for c in DISPOSAL_COLUMNS if is_blank(raw.cells.get(c)))
        if blank:
            raw.values[DISPOSAL_HALF_BLANK] = blank  # the project's stream decides (checked later)


class CellError(ValueError):
    """A cell's value cannot be read; the message says why, for the user."""


def parse_methods(value: Any) -> tuple[str, ...]:
    """处置方式: one or more method names joined by + or 、."""
    text = unicodedata.normalize("NFKC", cell_text(value))
    methods = []
    for part in METHOD_SEPARATORS.split(text):
        name = part.strip()
        if name not in METHOD_BY_NAME:
            raise CellError(
                _(
                    "无法识别的处置方式“%(value)s”（应为收储收回、嫁接盘活或自主提升，多种用“+”或“、”连接）"
                )
                % {"value": name}
            )
        if METHOD_BY_NAME[name] in methods:
            raise CellError(_("处置方式“%(value)s”重复") % {"value": name})
        methods.append(METHOD_BY_NAME[name])
    return tuple(methods)


def parse_areas(value: Any) -> tuple[Decimal, ...]:
    """面积(亩): one positive figure with at most 2 decimals per method, joined by +."""
    if isinstance(value, bool):
        raise CellError(_("无法识别的面积“%(value)s”") % {"value": value})
    if isinstance(value, (int, float, Decimal)):
        # A float cell that Excel shows as 0.3 may hold 0.30000000000000004 (a SUM, say):
        # what is within rounding noise of two places is read as those two places.
        if isinstance(value, float) and abs(value - round(value, 2)) < 1e-9:
            value = round(value, 2)
        parts = [repr(value) if isinstance(value, float) else str(value)]
    else:
        parts = unicodedata.normalize("NFKC", cell_text(value)).split("+")
    areas = []
    for part in parts:
        text = part.strip().replace(",", "")
        try:
            area = Decimal(text)
        except InvalidOperation:
            raise CellError(_("无法识别的面积“%(value)s”") % {"value": part.strip()}) from None
        if not area.is_finite():
            raise CellError(_("无法识别的面积“%(value)s”") % {"value": part.strip()})
        if area <= 0:
            raise CellError(_("面积须大于0，而不是“%(value)s”") % {"value": part.strip()})
        if area != area.quantize(Decimal("0.01")):
            raise CellError(_("面积“%(value)s”最多保留两位小数") % {"value": part.strip()})
        if area >= AREA_MAX:
            raise CellError(_("面积“%(value)s”过大") % {"value": part.strip()})
        areas.append(area.quantize(Decimal("0.01")))
    return tuple(areas)


def parse_seq(value: Any) -> int:
    """节点序号: an integer of at least 1."""
    if isinstance(value, bool):
        raise CellError(_("应为不小于1的整数，而不是“%(value)s”") % {"value": value})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = unicodedata.normalize("NFKC", cell_text(value)).strip()
        if not INTEGER.match(text):
            raise CellError(_("应为不小于1的整数，而不是“%(value)s”") % {"value": cell_text(value)})
        number = int(text.split(".")[0])
    if not 1 <= number <= SEQ_MAX:
        raise CellError(_("应为不小于1的整数，而不是“%(value)s”") % {"value": cell_text(value)})
    return number


def parse_date(value: Any) -> dt.date:
    """A date: an Excel date cell, 2026-03-10, 2026/3/10 or 2026年3月10日."""
    if isinstance(value, dt.datetime):
        return _in_plan_range(value.date())
    if isinstance(value, dt.date):
        return _in_plan_range(value)
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                day = dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
            return _in_plan_range(day)
    raise CellError(_("无法识别的日期“%(value)s”") % {"value": cell_text(value)})


def _in_plan_range(day: dt.date) -> dt.date:
    if out_of_range := plan_date_error(day):
        raise CellError(out_of_range)
    return day


PARSERS = {
    Col.METHODS: parse_methods,
    Col.AREAS: parse_areas,
    Col.SEQ: parse_seq,
    Col.DUE: parse_date,
    Col.COMPLETED: parse_date,
}


# -- across rows ---------------------------------------------------------------------------

# Project values that must agree on every row of one project code. Blank optional cells
# do not count: a project's enterprise or leader may be written on one of its rows only.
PROJECT_COLUMNS = (
    Col.NAME,
    Col.LOCALITY,
    Col.ENTERPRISE,
    Col.METHODS,
    Col.AREAS,
    Col.LEADER,
    Col.STREAM,
)


def check_across_rows(raw_rows: list[RawRow]) -> None:
    """Contradicting project values and repeated node numbers within the file."""
    first_seen: dict[tuple[str, str], tuple[int, Any]] = {}
    seqs: dict[tuple[str, int], int] = {}
    for raw in raw_rows:
        if not raw.valid(Col.CODE):
            continue
        code = raw.values[Col.CODE]
        contradicted = set()
        for column in PROJECT_COLUMNS:
            value = project_value(raw, column)
            if value is None or (column == Col.AREAS and Col.METHODS in contradicted):
                continue
            seen = first_seen.setdefault((code, column), (raw.number, value))
            if seen[1] != value:
                contradicted.add(column)
                raw.error(
                    column,
                    _("与第%(row)s行同一项目编号的“%(value)s”不一致")
                    % {"row": seen[0], "value": display_value(column, seen[1])},
                )
        if raw.valid(Col.SEQ):
            seq = raw.values[Col.SEQ]
            first = seqs.setdefault((code, seq), raw.number)
            if first != raw.number:
                raw.error(
                    Col.SEQ,
                    _("项目“%(code)s”的节点序号%(seq)s与第%(row)s行重复")
                    % {"code": code, "seq": seq, "row": first},
                )


def project_value(raw: RawRow, column: str) -> Any:
    """The row's value for a project column, comparable across rows; None when unknown."""
    if column == Col.METHODS:
        methods = raw.values.get(Col.METHODS)
        return frozenset(methods) if methods else None
    if column == Col.AREAS:
        # Areas compare per method, so only once both cells of the row are valid.
        disposal = raw.values.get("disposal")
        return frozenset(disposal) if disposal else None
    return raw.values.get(column)


def display_value(column: str, value: Any) -> str:
    if column == Col.METHODS:
        return "+".join(NAME_BY_METHOD[m] for m in DisposalMethod.values if m in value)
    if column == Col.AREAS:
        pairs = sorted(value, key=lambda pair: DisposalMethod.values.index(pair[0]))
        return "+".join(f"{NAME_BY_METHOD[method]}{area}" for method, area in pairs)
    return str(value)
