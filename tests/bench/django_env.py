"""Django set up for a benchmark process (settings from the environment: DATABASE_URL)."""

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodetrack.settings")
    # The sweep's e-mail copies are "sent" (their bookkeeping runs) but go nowhere.
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    import django

    django.setup()
