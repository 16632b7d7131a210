"""In-app notifications, made once per event and recipient, and their e-mail copies."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q

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
    made = _notifications_insert(new)
    if made:
        transaction.on_commit(lambda: notifications_deliver(event_keys=[event_key]))
    return made


def _notifications_insert(new: list[Notification]) -> int:
    """Insert the rows no other process has inserted meanwhile; returns how many this one did.

    ``bulk_create(ignore_conflicts=True)`` cannot tell which rows a concurrent pass
    inserted first, so a pass would count them as its own: ``ON CONFLICT DO NOTHING
    RETURNING`` (PostgreSQL, SQLite ≥ 3.35) answers with the rows actually written.
    """
    if not new:
        return 0
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in new for f in fields
    ]
    sql = (
        f"INSERT INTO {qn(Notification._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in fields)}) VALUES {', '.join([row] * len(new))} "
        f"ON CONFLICT DO NOTHING RETURNING {qn(Notification._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


EMAIL_MAX_ATTEMPTS = 8
EMAIL_FIRST_RETRY = dt.timedelta(minutes=5)
EMAIL_LONGEST_WAIT = dt.timedelta(hours=6)


def email_retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the given number of tries: 5 min, doubling, at most 6 h."""
    return min(EMAIL_FIRST_RETRY * 2 ** max(attempts - 1, 0), EMAIL_LONGEST_WAIT)


def notifications_deliver(*, event_keys: list[str] | None = None, limit: int = 500) -> int:
    """Send the e-mail copies not yet accepted by the mail server; returns how many it accepted.

    Each try is first claimed by raising the attempt count and booking the next try
    (5 minutes, doubling, at most 6 hours later), so two passes never send the same
    copy at once and a failure, or a process killed mid-send, is tried again by a later
    pass. ``emailed_at`` is written only after the server accepted the message; after
    ``EMAIL_MAX_ATTEMPTS`` tries a copy is given up (the in-app notification stays).
    Never called inside a transaction of the sweep: it runs after their commit.
    """
    now = clock.now()
    pending = Notification.objects.filter(
        Q(email_next_at__isnull=True) | Q(email_next_at__lte=now),
        emailed_at__isnull=True,
        email_attempts__lt=EMAIL_MAX_ATTEMPTS,
    )
    if event_keys is not None:
        pending = pending.filter(event_key__in=event_keys)
    sent = 0
    for n in pending.select_related("recipient").order_by("pk")[:limit]:
        if not n.recipient.email:  # nobody to write to: nothing left to try
            Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(
                email_attempts=EMAIL_MAX_ATTEMPTS, email_next_at=None
            )
            continue
        claimed = Notification.objects.filter(
            pk=n.pk, emailed_at__isnull=True, email_attempts=n.email_attempts
        ).update(
            email_attempts=F("email_attempts") + 1,
            email_next_at=now + email_retry_delay(n.email_attempts + 1),
        )
        if not claimed:
            continue
        try:
            send_mail(n.title, n.body or n.title, None, [n.recipient.email])
        except Exception:  # a mail server outage must not undo the facts already recorded
            log.exception("e-mail for notification %s failed (try %s)", n.pk, n.email_attempts + 1)
            continue
        Notification.objects.filter(pk=n.pk).update(emailed_at=clock.now(), email_next_at=None)
        sent += 1
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
