"""Schema pieces every app's API shares: strict dates, local instants, decimals and error bodies."""

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import BeforeValidator, Field, PlainSerializer
from pydantic_core import PydanticCustomError


def _strict_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    # The message shown to clients comes from _PYDANTIC_MESSAGES["date_format"].
    raise PydanticCustomError("date_format", "date must be YYYY-MM-DD")


# A calendar date in the body or the query: exactly YYYY-MM-DD (no timestamps, no datetimes).
DateIn = Annotated[dt.date, BeforeValidator(_strict_date)]

# An instant in the answer: ISO 8601 in the county's local time, with its offset.
Instant = Annotated[
    dt.datetime, PlainSerializer(lambda v: timezone.localtime(v).isoformat(), return_type=str)
]


def documented_bounds(**bounds) -> Any:
    """OpenAPI bounds (minimum, maximum, maxLength) published for a field whose bounds the
    service checks, so the service's message stays the one clients read."""
    return Field(json_schema_extra=bounds)


# Free text the services bound with core.text.text_clean (2,000 characters after trimming).
Text = Annotated[str, documented_bounds(maxLength=2000)]
Percent = documented_bounds(minimum=0, maximum=100)


def decimal2(value: Decimal | int | None) -> str:
    """A decimal as a string with two places ("97.00")."""
    return f"{Decimal(value or 0).quantize(Decimal('0.01'))}"


class Message(Schema):
    detail: str


class ConflictMessage(Schema):
    detail: str
    code: str


class ErrorMessage(Schema):
    detail: str
    errors: dict[str, list[str]]


# What each write endpoint may answer besides its success.
WRITE_ERRORS = {400: ErrorMessage, 401: Message, 403: Message, 404: Message, 409: ConflictMessage}
READ_ERRORS = {400: ErrorMessage, 401: Message, 404: Message}
