"""Entry points for django-q2."""

import logging
from pathlib import Path

from organization.models import User

from .batches import ledger_import_in_batches

log = logging.getLogger("nodetrack.ledger")


def ledger_import_batched(path: str, actor_id: int) -> str:
    """A long ledger import, enqueued by the upload page or `import_ledger --background`.

    The file is removed afterwards. Errors fail the task, with every error in its result;
    the summary is the task's result (both visible in the admin's task lists).
    """
    try:
        result = ledger_import_in_batches(path_or_file=path, actor=User.objects.get(pk=actor_id))
    finally:
        Path(path).unlink(missing_ok=True)
    if result.errors:
        errors = "\n".join(str(error) for error in result.errors)
        log.error("ledger import %s failed:\n%s", path, errors)
        raise RuntimeError(errors)
    summary = "\n".join(result.summary_lines())
    log.info("ledger import %s done:\n%s", path, summary)
    return summary
