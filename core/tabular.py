"""Tables for download and for files: CSV streamed row by row, .xlsx in openpyxl's write-only mode.

Every text cell that a spreadsheet would read as a formula (it begins with =, +, - or @) is
neutralised with a leading apostrophe; `unneutralise` undoes it on import, so that an
exported file reads back to the same values.
"""

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import openpyxl
from django.http import FileResponse, StreamingHttpResponse
from openpyxl.cell import WriteOnlyCell

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Row = Sequence[Any]


def neutralise(value: Any) -> Any:
    """A text cell that would start a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unneutralise(value: Any) -> Any:
    """The text a neutralised cell stood for (the inverse of `neutralise`)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(neutralise(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Row, rows: Iterable[Row]) -> Iterable[str]:
    """The CSV text, a line at a time, with a BOM so that Excel reads it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


def xlsx_write(
    target: IO[bytes] | str | Path, header: Row, rows: Iterable[Row], title: str
) -> None:
    """Write an .xlsx of one sheet; text cells are always text (never formulas)."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    book.save(target)


def file_write(path: Path, header: Row, rows: Iterable[Row], title: str) -> None:
    """Write the table to `path` as .xlsx or .csv, by its extension."""
    if path.suffix.lower() == ".xlsx":
        xlsx_write(path, header, rows, title)
    elif path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            out.writelines(csv_lines(header, rows))
    else:
        raise ValueError(path.suffix)


def _disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def table_response(fmt: str, filename: str, header: Row, rows: Iterable[Row], title: str):
    """A download of the table as `fmt` ("csv" streams; "xlsx" is spooled to a temporary file)."""
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(header, rows), content_type=CONTENT_TYPES["csv"])
        response["Content-Disposition"] = _disposition(f"{filename}.csv")
        return response
    if fmt != "xlsx":
        raise ValueError(fmt)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (closed by the response)
    xlsx_write(spool, header, rows, title)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type=CONTENT_TYPES["xlsx"],
    )
