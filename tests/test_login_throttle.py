"""Login throttling (django-axes): repeated wrong passwords lock a username at an address out,
on the site's login and on the admin's, for 15 minutes; API tokens are not throttled."""

import datetime as dt
import logging
from io import StringIO

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from organization.models import ApiToken
from organization.tokens import api_token_create
from tests.factories import UnitFactory, UserFactory, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"  # the factories' password
LOCKED = "登录已暂时锁定"
START = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone.utc)


def site_login(client: Client, username: str, password: str, ip: str = "10.0.0.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def admin_login(client: Client, username: str, password: str, ip: str = "10.0.0.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, frozen, caplog):
    """Five wrong passwords for one username from one address lock that pair out: the
    sixth attempt answers the lockout page even with the right password."""
    # given
    UserFactory(username="wang")
    caplog.set_level(logging.WARNING, logger="axes")
    # when
    wrong = [site_login(client, "wang", "wrong-password").status_code for _ in range(5)]
    right = site_login(client, "wang", PASSWORD)
    # then
    assert wrong == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert "15 分钟" in right.content.decode()
    assert not logged_in(client)
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "wang",
        "10.0.0.7",
        6,
    )
    assert "wrong-password" not in attempt.post_data
    assert PASSWORD not in attempt.post_data
    assert AccessFailureLog.objects.filter(username="wang").count() == 6
    assert AccessFailureLog.objects.filter(username="wang", locked_out=True).count() == 2
    lockouts = [r.getMessage() for r in caplog.records if "Locking out" in r.getMessage()]
    assert len(lockouts) == 2
    assert 'username: "wang"' in lockouts[0]
    assert 'ip_address: "10.0.0.7"' in lockouts[0]


def test_four_wrong_passwords_then_the_right_one_let_the_user_in_and_reset_the_count(
    client, frozen
):
    # given
    UserFactory(username="wang")
    for _ in range(4):
        site_login(client, "wang", "wrong-password")
    # when
    response = site_login(client, "wang", PASSWORD)
    # then
    assert response.status_code == 302
    assert logged_in(client)
    assert AccessAttempt.objects.count() == 0


def test_the_lockout_ends_fifteen_minutes_after_the_last_try(client, frozen):
    # given
    UserFactory(username="wang")
    for _ in range(5):
        site_login(client, "wang", "wrong-password")
    # when
    frozen.move_to(START + dt.timedelta(minutes=15, seconds=1))
    after = site_login(client, "wang", PASSWORD)
    # then
    assert after.status_code == 302
    assert logged_in(client)


def test_a_try_during_the_lockout_starts_the_fifteen_minutes_again(client, frozen):
    # given
    UserFactory(username="wang")
    for _ in range(5):
        site_login(client, "wang", "wrong-password")
    # when
    frozen.move_to(START + dt.timedelta(minutes=10))
    during = site_login(client, "wang", PASSWORD)
    frozen.move_to(START + dt.timedelta(minutes=24))
    before_the_new_end = site_login(client, "wang", PASSWORD)
    frozen.move_to(START + dt.timedelta(minutes=39, seconds=1))
    after = site_login(client, "wang", PASSWORD)
    # then
    assert (during.status_code, before_the_new_end.status_code) == (429, 429)
    assert after.status_code == 302
    assert logged_in(client)


def test_the_lockout_is_per_username_and_address(client, frozen):
    """An attacker guessing one account's password does not lock its owner out elsewhere,
    nor other accounts out at the same address."""
    # given
    UserFactory(username="wang")
    UserFactory(username="li")
    for _ in range(5):
        site_login(client, "wang", "wrong-password", ip="10.0.0.66")
    # when
    other_address = site_login(Client(), "wang", PASSWORD, ip="10.0.0.7")
    other_user = site_login(Client(), "li", PASSWORD, ip="10.0.0.66")
    # then
    assert other_address.status_code == 302
    assert other_user.status_code == 302
    assert timezone.now() == START


def test_the_admin_login_is_throttled_too(client, frozen):
    # given
    UserFactory(username="root", is_superuser=True, is_staff=True)
    # when
    wrong = [admin_login(client, "root", "wrong-password").status_code for _ in range(5)]
    right = admin_login(client, "root", PASSWORD)
    # then
    assert wrong == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert not logged_in(client)
    assert client.get("/admin/").status_code == 302


def test_failures_on_the_site_and_the_admin_count_together(client, frozen):
    # given
    UserFactory(username="root", is_superuser=True, is_staff=True)
    for _ in range(3):
        site_login(client, "root", "wrong-password")
    # when
    wrong = [admin_login(client, "root", "wrong-password").status_code for _ in range(2)]
    right = admin_login(client, "root", PASSWORD)
    # then
    assert wrong == [200, 429]
    assert right.status_code == 429
    assert not logged_in(client)


def test_api_tokens_are_not_throttled(client, frozen):
    """The API authenticates each request by its bearer token, not by a password: neither a
    locked-out login nor a run of wrong tokens stops a valid token."""
    # given
    user = make_user("staff", UnitFactory(), username="wang")
    raw = api_token_create(user=user)
    for _ in range(5):
        site_login(client, "wang", "wrong-password")
    # when
    bad = [
        client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer wrong-{i}").status_code
        for i in range(10)
    ]
    good = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    # then
    assert site_login(client, "wang", PASSWORD).status_code == 429
    assert bad == [401] * 10
    assert good.status_code == 200
    assert AccessAttempt.objects.get().failures_since_start == 6
    assert ApiToken.objects.filter(user=user).count() == 1


def test_the_reset_command_lifts_a_lockout(client, frozen):
    # given
    UserFactory(username="wang")
    for _ in range(5):
        site_login(client, "wang", "wrong-password")
    # when
    call_command("axes_reset_username", "wang", stdout=StringIO())
    response = site_login(client, "wang", PASSWORD)
    # then
    assert response.status_code == 302
    assert logged_in(client)
    assert AccessAttempt.objects.count() == 0
