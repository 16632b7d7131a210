"""Reads about cards, recommitments, supervision items and notifications, scoped to the user."""

from .models import Notification


def notification_unread_count(*, user) -> int:
    """How many in-app notifications the user has not read."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
