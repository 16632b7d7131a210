"""What is stored stays in the county's language, whatever language the writer reads."""

import functools

from django.conf import settings
from django.utils import translation


def in_record_language(func):
    """Run a write service in LANGUAGE_CODE, so the texts it stores (notifications, events,
    ledger reasons, history reasons) read the same for everyone later."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return wrapper
