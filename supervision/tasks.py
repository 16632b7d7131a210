"""Entry points for django-q2."""

from .services import notifications_deliver, sweep_run


def sweep() -> str:
    """The scheduled sweep (as of now)."""
    return sweep_run().counts.line()


def deliver_notifications() -> int:
    return notifications_deliver()
