"""The change log across every history-tracked model: who changed what, and when."""

import datetime as dt

from django.apps import apps
from django.db.models import CharField, QuerySet, Value

from core import clock

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def tracked_models() -> list[type]:
    """The models django-simple-history keeps, in a stable order (app label, model name)."""
    found = [
        m
        for m in apps.get_models()
        if getattr(m._meta, "simple_history_manager_attribute", None) and m._meta.pk.name == "id"
    ]
    return sorted(found, key=lambda m: m._meta.label_lower)


def audit_changes(
    *,
    user_id: int | None = None,
    model_label: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet:
    """Every recorded change, newest first, as rows of the same shape from every tracked
    model (one UNION query): history id, date, type, user id, reason, object id, model."""
    parts = []
    for model in tracked_models():
        if model_label and model._meta.label_lower != model_label:
            continue
        history = getattr(model, model._meta.simple_history_manager_attribute).all()
        if user_id is not None:
            history = history.filter(history_user_id=user_id)
        if date_from is not None:
            history = history.filter(history_date__gte=clock.start_of_day(date_from))
        if date_to is not None:
            history = history.filter(
                history_date__lt=clock.start_of_day(date_to + dt.timedelta(days=1))
            )
        parts.append(
            history.order_by()
            .annotate(model=Value(model._meta.label_lower, output_field=CharField()))
            .values(
                "history_id",
                "history_date",
                "history_type",
                "history_user_id",
                "history_change_reason",
                "id",
                "model",
            )
        )
    if not parts:
        return tracked_models()[0].history.none().values("history_id")
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-history_date", "-history_id")
