"""Production settings (nodetrack.settings.prod): refuse to start without their keys, pass
`check --deploy`, work behind a TLS-terminating proxy, and send the security headers; the
password validators refuse weak passwords everywhere."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from demo.data import DEMO_PASSWORD, demo_accounts
from organization.models import RoleAssignment, User
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
HOST = "nodetrack.example.gov.cn"
SECRET = "k8Zq3-production-secret-that-is-long-and-random-enough-for-check-deploy-7Hw2"
PASSWORD = "pw-123456"  # the factories' password


def prod_env(tmp_path, **changes) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "NODETRACK_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "nodetrack.settings.prod",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "NODETRACK_VAR_DIR": str(tmp_path / "var"),
        }
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_under_the_production_settings(tmp_path):
    # when
    result = manage(prod_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_start_up_is_refused_without_a_required_variable(tmp_path, missing):
    """Without its key, the production site must not fall back to the public development
    key (which django-q2 would sign its queue with), nor to SQLite, nor to localhost."""
    # when
    result = manage(prod_env(tmp_path, **{missing: None}), "check", "--deploy")
    # then
    assert result.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: nodetrack.settings.prod refuses to start:"
        f" set {missing} in the environment (see README, Production)."
    ) in result.stderr
    assert result.stdout == ""


def test_an_empty_secret_key_is_refused_like_a_missing_one(tmp_path):
    # when
    result = manage(prod_env(tmp_path, DJANGO_SECRET_KEY="  "), "check")
    # then
    assert result.returncode == 1
    assert "set DJANGO_SECRET_KEY in the environment" in result.stderr


def test_the_development_settings_stay_the_default(tmp_path):
    # when
    env = prod_env(tmp_path, DJANGO_SETTINGS_MODULE="nodetrack.settings", DJANGO_SECRET_KEY=None)
    result = manage(env, "check")
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def load_prod(monkeypatch, tmp_path) -> dict:
    """The production settings that differ from the test run's, to override in-process
    (the test database is kept)."""
    for key, value in prod_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    sys.modules.pop("nodetrack.settings.prod", None)
    prod = importlib.import_module("nodetrack.settings.prod")
    sys.modules.pop("nodetrack.settings.prod", None)
    changed = {}
    for name in dir(prod):
        if not name.isupper() or name in {"DATABASES", "SETTINGS_MODULE"}:
            continue
        value = getattr(prod, name)
        if getattr(settings, name, object()) != value:
            changed[name] = value
    return changed


@pytest.fixture
def prod(monkeypatch, tmp_path, settings):
    changed = load_prod(monkeypatch, tmp_path)
    # The autouse fixture's plain static storage: the compressed one needs collectstatic.
    changed["STORAGES"] = settings.STORAGES
    with override_settings(**changed):
        yield changed


@pytest.mark.django_db
def test_login_behind_the_tls_proxy_with_an_https_origin(prod):
    """A TLS-terminating proxy sends http to the app with X-Forwarded-Proto: https; the
    browser's login POST carries an https Origin. It used to answer 403 (CSRF)."""
    # given
    user = UserFactory(username="wang")
    client = Client(enforce_csrf_checks=True)
    proxy = {"HTTP_HOST": HOST, "HTTP_X_FORWARDED_PROTO": "https"}
    page = client.get("/accounts/login/", **proxy)
    token = page.cookies["csrftoken"].value
    # when
    response = client.post(
        "/accounts/login/",
        {"username": "wang", "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_ORIGIN=f"https://{HOST}",
        HTTP_REFERER=f"https://{HOST}/accounts/login/",
        **proxy,
    )
    # then
    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    session_cookie = response.cookies["sessionid"]
    assert (session_cookie["secure"], session_cookie["httponly"]) == (True, True)
    assert session_cookie["max-age"] == ""  # ends when the browser closes
    assert client.session.get_expiry_age() == 8 * 3600
    assert page.cookies["csrftoken"]["secure"] is True


@pytest.mark.django_db
def test_without_the_proxy_header_plain_http_is_sent_to_https(prod):
    # when
    response = Client().get("/accounts/login/", HTTP_HOST=HOST)
    # then
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/accounts/login/"


@pytest.mark.django_db
def test_an_https_origin_without_the_proxy_settings_was_refused(prod):
    """What the proxy settings fix: with neither, Django sees http and refuses the origin."""
    # given
    UserFactory(username="wang")
    client = Client(enforce_csrf_checks=True)
    with override_settings(
        SECURE_PROXY_SSL_HEADER=None, CSRF_TRUSTED_ORIGINS=[], SECURE_SSL_REDIRECT=False
    ):
        page = client.get("/accounts/login/", HTTP_HOST=HOST)
        # when
        response = client.post(
            "/accounts/login/",
            {
                "username": "wang",
                "password": PASSWORD,
                "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
            },
            HTTP_ORIGIN=f"https://{HOST}",
            HTTP_HOST=HOST,
        )
    # then
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_security_headers_under_the_production_settings(prod):
    # when
    response = Client().get("/accounts/login/", HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    # then
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = csp(response)
    assert (policy["script-src"], policy["style-src"]) == ("'self'", "'self'")
    assert (policy["frame-ancestors"], policy["object-src"]) == ("'none'", "'none'")
    assert "unsafe" not in response["Content-Security-Policy"]


def csp(response) -> dict[str, str]:
    """The response's Content-Security-Policy, directive → sources."""
    directives = (
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return {name: sources for name, sources in directives}


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def test_no_template_has_inline_script_or_style():
    """The Content-Security-Policy forbids inline script and style: no template may need it."""
    # given
    templates = [p for d in TEMPLATE_DIRS for p in d.rglob("*.html")]
    # when
    offenders = [
        f"{path.relative_to(ROOT)}: {pattern.pattern}"
        for path in templates
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE)
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    # then
    assert len(templates) > 30
    assert offenders == []


@pytest.mark.django_db
def test_the_admin_and_the_api_docs_carry_no_inline_script(client):
    # given
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    # when
    pages = {
        path: client.get(path)
        for path in (
            "/admin/",
            "/admin/organization/user/",
            "/admin/organization/user/add/",
            "/api/v1/docs",
        )
    }
    # then
    assert {path: r.status_code for path, r in pages.items()} == dict.fromkeys(pages, 200)
    for path, response in pages.items():
        html = response.content.decode()
        assert INLINE_SCRIPT.findall(html) == [], path
        assert INLINE_HANDLER.findall(html) == [], path
        assert csp(response)["script-src"] == "'self'", path


@pytest.mark.django_db
def test_the_api_docs_are_public_and_the_api_is_not(client):
    """The documentation and the OpenAPI document describe the API's shape, not its data:
    they are public, so integrators and the CI's fuzzer read them without an account.
    Every endpoint still answers 401 without a token."""
    # when
    docs = client.get("/api/v1/docs")
    schema = client.get("/api/v1/openapi.json")
    data = client.get("/api/v1/projects/")
    # then
    assert (docs.status_code, schema.status_code, data.status_code) == (200, 200, 401)


# Password validators: the four Django ships, in the base settings, so everywhere.


def test_the_four_standard_password_validators_are_on():
    assert [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


@pytest.mark.django_db
def test_add_user_refuses_12345678(capsys):
    # given
    before = (User.objects.count(), RoleAssignment.objects.count(), User.history.count())
    # when
    with pytest.raises(CommandError) as excinfo:
        call_command("add_user", "zhao", "--password", "12345678", "--role", "supervisor")
    # then
    assert "这个密码太常见了。" in str(excinfo.value)
    assert "密码只包含数字。" in str(excinfo.value)
    assert (User.objects.count(), RoleAssignment.objects.count(), User.history.count()) == before
    assert not User.objects.filter(username="zhao").exists()


@pytest.mark.django_db
def test_the_admin_refuses_12345678(client):
    # given
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    before = (User.objects.count(), User.history.count())
    # when
    response = client.post(
        "/admin/organization/user/add/",
        {
            "username": "zhao",
            "full_name": "赵敏",
            "phone": "",
            "email": "",
            "usable_password": "true",
            "password1": "12345678",
            "password2": "12345678",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "这个密码太常见了。" in html
    assert "密码只包含数字。" in html
    assert (User.objects.count(), User.history.count()) == before


@pytest.mark.django_db
def test_the_demo_password_passes_the_validators_for_every_demo_account():
    # given
    accounts = demo_accounts()
    # when
    refused = {}
    for account in accounts:
        user = User(username=account.username, full_name=account.full_name)
        user.email = f"{account.username}@feixi.example.cn"
        try:
            validate_password(DEMO_PASSWORD, user)
        except ValidationError as error:
            refused[account.username] = error.messages
    # then
    assert len(accounts) > 5
    assert refused == {}
