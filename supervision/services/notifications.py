"""In-app notifications, made once per event and recipient, and their e-mail copies."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q

from core import clock
from core.bulk import rows_insert
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
        {
            "recipient_id": rid,
            "kind": kind,
            "event_key": event_key,
            "title": title[:200],
            "body": body,
            "node_id": node.pk if node else None,
            "created_at": at,
        }
        for rid in sorted(recipient_ids - existing)
    ]
    made = notifications_insert(new)
    if made:
        transaction.on_commit(lambda: notifications_deliver(event_keys=[event_key]))
    return made


def notifications_insert(new: list[dict]) -> int:
    """Insert the notifications (rows as ``{attname: value}``) no other process has inserted
    meanwhile; returns how many this one did (a concurrent pass's rows are not counted
    twice)."""
    return len(rows_insert(Notification, new, returning=("id",), skip_conflicts=True))


EMAIL_MAX_ATTEMPTS = 8
EMAIL_FIRST_RETRY = dt.timedelta(minutes=5)
EMAIL_LONGEST_WAIT = dt.timedelta(hours=6)


def email_retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the given number of tries: 5 min, doubling, at most 6 h."""
    return min(EMAIL_FIRST_RETRY * 2 ** max(attempts - 1, 0), EMAIL_LONGEST_WAIT)


def notifications_deliver(*, event_keys: list[str] | None = None, limit: int = 500) -> int:
    """Send up to `limit` e-mail copies not yet accepted by the mail server; returns how many
    it accepted.

    The copies are claimed in bulk first, in a short transaction of their own: the attempt
    count goes up and the next try is booked (5 minutes, doubling, at most 6 hours later).
    Rows another process has claimed are skipped (``SKIP LOCKED``), so two senders never
    send the same copy, and a failure, or a process killed mid-send, is tried again later.
    ``emailed_at`` is written only after the server accepted the message; after
    ``EMAIL_MAX_ATTEMPTS`` tries a copy is given up (the in-app notification stays).
    Never called inside a transaction of the sweep: the sweep's task queues it.
    """
    return _deliver(event_keys=event_keys, limit=limit)[1]


def _deliver(*, event_keys: list[str] | None, limit: int) -> tuple[int, int]:
    """One round of notifications_deliver: how many copies it claimed, how many went out."""
    now = clock.now()
    pending = Notification.objects.filter(
        Q(email_next_at__isnull=True) | Q(email_next_at__lte=now),
        emailed_at__isnull=True,
        email_attempts__lt=EMAIL_MAX_ATTEMPTS,
    )
    if event_keys is not None:
        pending = pending.filter(event_key__in=event_keys)
    with transaction.atomic():
        claimed = list(
            pending.select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "email_attempts", "recipient__email", "title", "body")[:limit]
        )
        # Nobody to write to: nothing left to try.
        Notification.objects.filter(pk__in=[c[0] for c in claimed if not c[2]]).update(
            email_attempts=EMAIL_MAX_ATTEMPTS, email_next_at=None
        )
        count = len(claimed)
        claimed = [c for c in claimed if c[2]]
        for attempts in sorted({c[1] for c in claimed}):
            Notification.objects.filter(pk__in=[c[0] for c in claimed if c[1] == attempts]).update(
                email_attempts=attempts + 1, email_next_at=now + email_retry_delay(attempts + 1)
            )
    sent: list[int] = []
    if claimed:
        mail = get_connection()
        try:
            mail.open()  # one connection for the round; if it fails, each send tries again
        except Exception:
            log.exception("mail server unreachable")
        try:
            for pk, attempts, address, title, body in claimed:
                try:
                    EmailMessage(title, body or title, None, [address], connection=mail).send()
                except Exception:  # a mail server outage must not undo the facts recorded
                    log.exception("e-mail for notification %s failed (try %s)", pk, attempts + 1)
                    continue
                sent.append(pk)
        finally:
            mail.close()
    Notification.objects.filter(pk__in=sent).update(emailed_at=clock.now(), email_next_at=None)
    return count, len(sent)


def notifications_deliver_all(*, limit: int = 500) -> int:
    """Send every e-mail copy due, `limit` at a time; returns how many were accepted.

    Each round books the next try of what it claimed, so the rounds end once a round finds
    fewer than `limit` copies due.
    """
    sent = 0
    while True:
        claimed, accepted = _deliver(event_keys=None, limit=limit)
        sent += accepted
        if claimed < limit:
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
