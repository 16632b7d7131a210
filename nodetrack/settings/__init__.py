"""Settings for NodeTrack, read from the environment (see README, "Configuration").

These are the development and test settings (`make run`, `make test`); production runs
`nodetrack.settings.prod`, which builds on them and refuses to start without its keys.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("NODETRACK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "simple_history",
    "django_q",
    "ninja",
    "django_filters",
    "django_htmx",
    "template_partials",
    "core",
    "organization",
    "projects",
    "supervision",
    "scoring",
    "ledger",
    "demo",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "nodetrack.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "nodetrack.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nodetrack.urls"
WSGI_APPLICATION = "nodetrack.wsgi.application"
ASGI_APPLICATION = "nodetrack.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "supervision.context_processors.navigation",
            ],
        },
    },
]

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'nodetrack.sqlite3'}"
if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, except that the cursor of a failed BEGIN is closed at once instead of
    # being left to the garbage collector of another thread (core.sqlite.base says why).
    DATABASES["default"]["ENGINE"] = "core.sqlite"
    # The web server and the cluster write at once: take the write lock at BEGIN and wait
    # for it, instead of failing with "database is locked" on the first conflict.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The pages' scoped queries are short: compiling them with JIT costs more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # A new PostgreSQL connection costs a few milliseconds and a server process: keep it for
    # the requests of the next minute (DJANGO_CONN_MAX_AGE seconds; 0 closes it after each
    # request), checked before reuse so a restarted server costs no failed request.
    # SQLite keeps closing its connection after each request (opening a file is cheap, and
    # the load test's WAL and busy-timeout behaviour is measured that way).
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DJANGO_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organization.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes), on the site's login and the admin's alike: the 5th wrong
# password for one username from one address locks that pair out for 15 minutes, even
# with the right password, and each try during the lockout starts the 15 minutes again.
# Each failure is stored (AccessAttempt, AccessFailureLog, never the password) and logged
# with the username and address, so the office can tell who was tried from where.
# API bearer tokens do not go through authenticate() and are not throttled.
AUTHENTICATION_BACKENDS = [
    "nodetrack.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_SENSITIVE_PARAMETERS: list[str] = []
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# django-axes has no Chinese catalog: its records stay out of the admin; unlock with
# `manage.py axes_reset_username USERNAME` (see README, Production).
AXES_ENABLE_ADMIN = False

# Content-Security-Policy (django-csp): scripts and styles only from our own static files,
# no inline script, no inline style, no framing. The same policy in development and
# tests, so a page that breaks it shows at once.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "zh-hans"
# Each language is named in itself, so the switch reads right whatever is active.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "nodetrack" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("NODETRACK_MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# One evidence file at most (photos, PDF, Office documents), checked by core.files.
NODETRACK_UPLOAD_MAX_MB = int(os.environ.get("NODETRACK_UPLOAD_MAX_MB", "20"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "nodetrack@localhost")

SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# The escalation sweep: how often django-q2 runs it, and how many nodes a batch holds.
NODETRACK_SWEEP_MINUTES = int(os.environ.get("NODETRACK_SWEEP_MINUTES", "10"))
NODETRACK_SWEEP_BATCH = int(os.environ.get("NODETRACK_SWEEP_BATCH", "500"))
# Username of the account that the sweep and other automatic writes are recorded under.
NODETRACK_SYSTEM_USERNAME = "system"
# The site's address (https://nodetrack.example.gov.cn), put before the links of e-mails;
# empty, they carry the path only.
NODETRACK_SITE_URL = os.environ.get("NODETRACK_SITE_URL", "")

Q_CLUSTER = {
    "name": "nodetrack",
    "workers": int(os.environ.get("NODETRACK_Q_WORKERS", "2")),
    "orm": "default",
    "timeout": 600,
    "retry": 720,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 500,
    "time_zone": TIME_ZONE,
    "sync": env_bool("NODETRACK_Q_SYNC", False),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "nodetrack": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
