"""Bearer tokens for the REST API: made once, stored as a SHA-256 digest, checked on each call."""

import contextlib
import datetime as dt

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import ApiToken, User

# Writing last_used_at on every call would turn each read into a write; once a minute is
# enough, and it never waits for a lock (api_token_touch).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# token_urlsafe(32) gives 43 characters; anything far longer is not one of ours.
RAW_MAX_LENGTH = 200


@transaction.atomic
def api_token_create(*, user: User) -> str:
    """Make a new API token for the user; returns the raw token, which is never stored."""
    raw = ApiToken.generate()
    token = ApiToken(user=user, digest=ApiToken.hash(raw), prefix=raw[:8])
    token.full_clean()
    token.save()
    return raw


def api_token_authenticate(raw: str) -> User | None:
    """The active user a raw token belongs to, or None (unknown, revoked, or inactive user)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > RAW_MAX_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        api_token_touch(token_id=token.pk, at=now)
    return token.user


def api_token_touch(*, token_id: int, at: dt.datetime) -> bool:
    """Record a token's use, at most once a minute, without ever waiting for a lock.

    A call is a read; this write is bookkeeping. When someone else holds the write lock (a
    long import on SQLite, another request touching the same token on PostgreSQL) it is
    skipped at once, and a later call records the use. Returns whether it was written.
    """
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=at - LAST_USED_RESOLUTION)
    try:
        with _no_lock_wait(), transaction.atomic():
            ids = list(
                ApiToken.objects.select_for_update(skip_locked=True)
                .filter(stale, pk=token_id)
                .values_list("pk", flat=True)
            )
            return ApiToken.objects.filter(pk__in=ids).update(last_used_at=at) == 1
    except OperationalError:  # "database is locked": the lock is taken, try next time
        return False


@contextlib.contextmanager
def _no_lock_wait():
    """On SQLite, fail at once instead of waiting out the busy timeout; elsewhere nothing.

    Inside an outer transaction there is no lock to wait for (it is already held).
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()
    waited_ms = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {waited_ms}")
