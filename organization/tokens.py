"""Bearer tokens for the REST API: made once, stored as a SHA-256 digest, checked on each call."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, User

# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
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
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
