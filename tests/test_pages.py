"""Pages: notifications with the unread count, the calendar warning, login."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from supervision.models import CalendarDay, Notification
from tests.factories import UnitFactory, make_user

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def notify(user, key, title):
    return Notification.objects.create(
        recipient=user, kind="reminder", event_key=key, title=title, created_at=NOW
    )


def test_login_page_is_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_login_with_a_wrong_password_keeps_the_username(client):
    make_user("supervisor", username="dcb")
    response = client.post(reverse("login"), {"username": "dcb", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "用户名或密码不正确" in body and 'value="dcb"' in body


def test_notifications_show_only_ones_own_and_the_unread_count(client):
    # given
    unit = UnitFactory()
    me, other = make_user("staff", unit), make_user("staff", unit)
    notify(me, "a", "节点“评估报告”将于 2026-12-03 到期")
    notify(me, "b", "县自然资源局 的节点被亮黄牌")
    notify(other, "a", "别人的通知")
    client.force_login(me)
    # when
    body = client.get(reverse("notifications")).content.decode()
    # then
    assert "评估报告" in body and "亮黄牌" in body and "别人的通知" not in body
    assert '<span class="badge">2</span>' in body


def test_mark_all_read_touches_only_ones_own(client):
    unit = UnitFactory()
    me, other = make_user("staff", unit), make_user("staff", unit)
    notify(me, "a", "x")
    notify(other, "a", "y")
    client.force_login(me)
    response = client.post(reverse("notifications-read-all"))
    assert response.status_code == 302
    assert list(
        Notification.objects.filter(read_at__isnull=True).values_list("recipient", flat=True)
    ) == [other.pk]
    assert 'class="badge"' not in client.get(reverse("notifications")).content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_office_is_warned_about_a_year_without_holidays_until_it_enters_it(client):
    client.force_login(make_user("supervisor"))
    home = client.get(reverse("home"), follow=True).content.decode()
    assert "2027年的法定节假日安排尚未录入" in home
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    assert "尚未录入" not in client.get(reverse("home"), follow=True).content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_calendar_warning_is_shown_only_to_those_who_can_act_on_it(client):
    """The office and administrators keep the calendar; a leader cannot act on the warning."""
    client.force_login(make_user("principal"))
    assert "尚未录入" not in client.get(reverse("home"), follow=True).content.decode()
    client.force_login(make_user("staff", UnitFactory(name="县财政局")))
    assert "尚未录入" not in client.get(reverse("home"), follow=True).content.decode()


def test_pages_stay_chinese_whatever_the_browser_asks(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_a_user_may_choose_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    assert client.get(reverse("login"))["Content-Language"] == "en"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert client.get(reverse("login"))["Content-Language"] == "zh-hans"


def test_error_pages_are_in_the_layout_and_in_chinese(rf):
    """403, 404 and 500 answer in the app's own layout; a 403 says why, a 500 says what to do."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django.views.defaults import page_not_found, permission_denied, server_error

    denied = permission_denied(rf.get("/x"), PermissionDenied("只有督查办可以撤销亮牌。"))
    missing = page_not_found(rf.get("/x"), Http404())
    broken = server_error(rf.get("/x"))
    assert (denied.status_code, missing.status_code, broken.status_code) == (403, 404, 500)
    assert "只有督查办可以撤销亮牌。" in denied.content.decode()
    assert "该内容不存在，或不在您的查看范围内。" in missing.content.decode()
    assert "请稍后再试；如果一再出现，请联系系统管理员。" in broken.content.decode()
    assert all('class="topbar"' in r.content.decode() for r in (denied, missing, broken))


def test_a_form_sent_without_its_token_is_refused_in_chinese_and_changes_nothing():
    """A stale or forged form (no CSRF token) answers 403 in the layout, in plain Chinese."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("supervisor"))
    before = Notification.objects.count()
    response = client.post(reverse("notifications-read-all"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期，未作任何更改" in body and 'class="topbar"' in body
    assert Notification.objects.count() == before
