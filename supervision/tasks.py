"""Entry points for django-q2."""

from django_q.tasks import async_task

from .services import notifications_deliver_all, sweep_run
from .services.early_warning import lagging_digest_send


def sweep() -> str:
    """The scheduled sweep (as of now); a failed pass is a failed task, visible as such.

    The e-mail copies of what it made go out in a task of their own, after its commits.
    """
    run = sweep_run()
    if run.notifications:
        async_task("supervision.tasks.email_deliver")
    if run.error:
        raise RuntimeError(f"sweep {run.pk} failed: {run.error.strip().splitlines()[-1]}")
    return run.counts.line()


def lagging_digest() -> str:
    """The weekly digest of lagging nodes (Monday 08:00 county time), as of now."""
    return f"notifications={lagging_digest_send()}"


def email_deliver() -> str:
    """Send the e-mail copies due (new ones, and retries whose time has come)."""
    return f"sent={notifications_deliver_all()}"
