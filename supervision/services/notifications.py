"""In-app notifications, made once per event and recipient, and their e-mail copies."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import transaction

from core import clock
from organization.models import User
from projects.models import Node

from ..models import Notification

log = logging.getLogger("nodetrack.notifications")


def notifications_create(
    *,
    recipients: Iterable[User],
    kind: str,
    event_key: str,
    title: str,
    body: str = "",
    node: Node | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Tell each recipient once about an event; returns how many new notifications were made.

    The unique (recipient, event_key) constraint makes a repeat a no-op, also when two
    processes race; e-mail copies go out after the transaction commits.
    """
    at = at or clock.now()
    recipient_ids = {u.pk for u in recipients}
    if not recipient_ids:
        return 0
    existing = set(
        Notification.objects.filter(
            event_key=event_key, recipient_id__in=recipient_ids
        ).values_list("recipient_id", flat=True)
    )
    new = [
        Notification(
            recipient_id=rid,
            kind=kind,
            event_key=event_key,
            title=title[:200],
            body=body,
            node=node,
            created_at=at,
        )
        for rid in sorted(recipient_ids - existing)
    ]
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        transaction.on_commit(lambda: notifications_deliver(event_keys=[event_key]))
    return len(new)


def notifications_deliver(*, event_keys: list[str] | None = None, limit: int = 500) -> int:
    """Send the e-mail copy of notifications not yet sent; each is claimed once, so sent once."""
    pending = Notification.objects.filter(emailed_at__isnull=True)
    if event_keys is not None:
        pending = pending.filter(event_key__in=event_keys)
    sent = 0
    for n in pending.select_related("recipient").order_by("pk")[:limit]:
        claimed = Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(
            emailed_at=clock.now()
        )
        if not claimed or not n.recipient.email:
            continue
        try:
            send_mail(n.title, n.body or n.title, None, [n.recipient.email])
            sent += 1
        except Exception:  # a mail server outage must not undo the facts already recorded
            log.exception("e-mail for notification %s failed", n.pk)
    return sent


@transaction.atomic
def notifications_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=clock.now()
    )


def notifications_settle(*, event_key: str, at: dt.datetime) -> int:
    """Mark every unread notification of an event read: its work was done (by anyone).

    A recommitment waits for any one of its approvers; once one decides, or it lapses,
    the others' "待您审批" is no longer theirs to act on.
    """
    return Notification.objects.filter(event_key=event_key, read_at__isnull=True).update(read_at=at)


def recommitment_waiting_key(recommitment_id: int) -> str:
    """The event key of the approvers' notification about a pending recommitment."""
    return f"recommitment:{recommitment_id}:waiting"
