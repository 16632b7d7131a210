"""Long ledger imports in batches, so that no transaction holds SQLite's write lock for minutes.

The rule, for a file imported in batches (ledger_import_in_batches):

1. The whole file is checked first, without writing: every row's format and every check
   the database makes (units, leaders, completed nodes). A file with any error writes
   nothing, as with ledger_import.
2. Then it is written project by project, in batches of about BATCH_ROWS rows; each batch
   is its own transaction, and all the nodes of a project are in the same batch.
3. If a batch fails (the database changed after the check: a unit was deactivated, a node
   completed meanwhile), the batches before it stay written, the failing one writes
   nothing, and the import stops with the error. Every batch is an upsert (projects by
   code, nodes by code and sequence number, units, enterprises and leaders by name), so
   importing the same file again, once the error is fixed, completes it without
   duplicating anything.
"""

import time
from pathlib import Path
from typing import BinaryIO

from django.db import connection, transaction

from core import clock
from core.i18n import in_record_language
from organization.models import User

from .importing import LedgerImportResult, _Plan, _WriteFailed
from .parsing import Col, LedgerError, ParsedLedger, ledger_parse

# Rows written per transaction: a few seconds of the write lock on SQLite.
BATCH_ROWS = 200
# Above this many rows the upload page and `import_ledger --background` run the import as
# a django-q2 task in batches; smaller files import at once, all or nothing.
BACKGROUND_ROWS = 2000
# SQLite does not queue the writers that wait for its lock: they poll, sleeping up to
# 100 ms between tries, and a batch that starts right after the last would take the lock
# again before them. A short pause between batches lets them in.
BATCH_PAUSE_SECONDS = 0.25


def ledger_row_count(path_or_file: str | Path | BinaryIO) -> int:
    """How many good rows a ledger file has (the size that decides how it is imported)."""
    return len(ledger_parse(path_or_file, today=clock.today()).rows)


@in_record_language
def ledger_import_in_batches(
    *, path_or_file: str | Path | BinaryIO, actor: User, batch_rows: int = BATCH_ROWS
) -> LedgerImportResult:
    """Import a ledger checked whole first, then written in batches (the module's rule)."""
    result = LedgerImportResult()
    parsed = ledger_parse(path_or_file, today=clock.today())
    result.errors.extend(parsed.errors)
    with transaction.atomic():  # reads and checks only: short
        result.errors.extend(_Plan.load(parsed).check(parsed.cells))
    result.errors.sort(key=LedgerError.sort_key)
    if result.errors:
        return result
    for part in _batches(parsed, batch_rows):
        try:
            with transaction.atomic():
                plan = _Plan.load(part)
                errors = plan.check(part.cells)
                if errors:
                    result.errors.extend(sorted(errors, key=LedgerError.sort_key))
                    return result
                plan.write(actor=actor, result=result)
        except _WriteFailed as exc:
            result.errors.append(exc.error)
            return result
        if connection.vendor == "sqlite":
            time.sleep(BATCH_PAUSE_SECONDS)
    return result


def _batches(parsed: ParsedLedger, batch_rows: int):
    """The file's rows cut into batches of whole projects, about batch_rows rows each."""
    codes: list[str] = []
    rows = 0
    by_code: dict[str, list] = {}
    for row in parsed.rows:
        by_code.setdefault(row.project_code, []).append(row)
    cells_by_code: dict[str, list] = {}
    for number, values in parsed.cells:
        cells_by_code.setdefault(values.get(Col.CODE), []).append((number, values))
    for code, project_rows in by_code.items():
        codes.append(code)
        rows += len(project_rows)
        if rows >= batch_rows:
            yield _part(codes, by_code, cells_by_code)
            codes, rows = [], 0
    if codes:
        yield _part(codes, by_code, cells_by_code)


def _part(codes, by_code, cells_by_code) -> ParsedLedger:
    return ParsedLedger(
        rows=[row for code in codes for row in by_code[code]],
        cells=sorted(
            (cell for code in codes for cell in cells_by_code.get(code, [])), key=lambda c: c[0]
        ),
    )
