"""Importing a county's existing ledger (台账): parse and check a file, then write it."""

from .importing import LedgerImportResult, ledger_import
from .parsing import Col, LedgerError, LedgerRow, ParsedLedger, ledger_parse

__all__ = [
    "Col",
    "LedgerError",
    "LedgerImportResult",
    "LedgerRow",
    "ParsedLedger",
    "ledger_import",
    "ledger_parse",
]
