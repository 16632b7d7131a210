"""Saving a history-tracked row with who did it and why, also outside a request."""

from django.db import models


def audited_save(obj: models.Model, *, actor, reason: str = "", **save_kwargs) -> None:
    """Save `obj` so its django-simple-history record names the actor and the reason."""
    obj._history_user = actor
    if reason:
        obj._change_reason = str(reason)
    obj.save(**save_kwargs)
