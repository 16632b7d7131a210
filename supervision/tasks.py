"""Entry points for django-q2."""

from .services import sweep_run
from .services.early_warning import lagging_digest_send


def sweep() -> str:
    """The scheduled sweep (as of now); a failed pass is a failed task, visible as such."""
    run = sweep_run()
    if run.error:
        raise RuntimeError(f"sweep {run.pk} failed: {run.error.strip().splitlines()[-1]}")
    return run.counts.line()


def lagging_digest() -> str:
    """The weekly digest of lagging nodes (Monday 08:00 county time), as of now."""
    return f"notifications={lagging_digest_send()}"
