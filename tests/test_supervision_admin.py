"""The supervision admin: facts are shown, never edited or restored; the calendar is kept here."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from projects.models import Node
from supervision.models import CalendarDay, Card, SweepRun
from supervision.services import card_revoke, sweep_run
from tests.factories import NodeFactory, UnitFactory, UserFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def root_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def revoked_card():
    unit = UnitFactory()
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    sweep_run(as_of=dt.datetime(2026, 11, 21, tzinfo=SH))
    card = Card.objects.get()
    card_revoke(card=card, actor=make_user("supervisor"), reason="误发")
    return card


@pytest.mark.parametrize(
    "name",
    [
        "card",
        "recommitment",
        "supervisionitem",
        "inspectionrecord",
        "notification",
        "sweeprun",
        "calendarday",
    ],
)
def test_changelists_open(root_client, revoked_card, name):
    assert root_client.get(reverse(f"admin:supervision_{name}_changelist")).status_code == 200


def test_a_revoked_card_cannot_be_restored_from_its_history(root_client, revoked_card):
    # given
    version = revoked_card.history.earliest("history_date")
    url = reverse("admin:supervision_card_simple_history", args=[revoked_card.pk, version.pk])
    # when
    response = root_client.post(url, {})
    # then
    assert response.status_code == 405
    revoked_card.refresh_from_db()
    assert revoked_card.revoked_at is not None
    assert (
        root_client.get(
            reverse("admin:supervision_card_change", args=[revoked_card.pk])
        ).status_code
        == 200
    )
    assert root_client.get(reverse("admin:supervision_card_add")).status_code == 403


def test_sweep_runs_are_listed_with_their_counts(root_client, revoked_card):
    body = root_client.get(reverse("admin:supervision_sweeprun_changelist")).content.decode()
    assert SweepRun.objects.count() == 1
    assert "巡检记录" in body


@time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=SH), tick=False)
def test_entering_a_holiday_in_the_admin_makes_the_sweep_look_again(root_client):
    # given: a node in its grace window, its next check worked out
    NodeFactory(unit=UnitFactory(), due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=dt.datetime(2026, 11, 27, tzinfo=SH))
    assert Node.objects.get().next_escalation_at == dt.datetime(2026, 12, 3, tzinfo=SH)
    page = root_client.get(reverse("admin:index")).content.decode()
    assert "2027年的法定节假日安排尚未录入" in page
    # when
    response = root_client.post(
        reverse("admin:supervision_calendarday_add"),
        {"date": "2026-12-01", "name": "临时放假", "is_workday": ""},
    )
    # then
    assert response.status_code == 302
    assert CalendarDay.objects.get().is_workday is False
    assert Node.objects.get().next_escalation_at is None
    sweep_run(as_of=dt.datetime(2026, 11, 30, 10, tzinfo=SH))
    assert Node.objects.get().next_escalation_at == dt.datetime(2026, 12, 4, tzinfo=SH)


def test_only_the_supervision_office_keeps_the_calendar_in_the_admin(client):
    # given: an admin user who is not in the supervision office
    clerk = make_user("staff", UnitFactory(), username="clerk")
    clerk.is_staff = True
    clerk.save()
    from django.contrib.auth.models import Permission

    clerk.user_permissions.set(Permission.objects.filter(codename__endswith="calendarday"))
    client.force_login(clerk)
    # when
    response = client.post(
        reverse("admin:supervision_calendarday_add"), {"date": "2026-12-01", "is_workday": ""}
    )
    # then
    assert response.status_code == 403
    assert CalendarDay.objects.count() == 0


def test_reminder_days_must_be_a_list_of_day_counts(root_client):
    url = reverse("admin:scoring_ruleversion_add")
    base = {
        "effective_from": "2099-01-01",
        "yellow_points": "1",
        "red_points": "2",
        "base_score": "100",
        "grace_workdays": "3",
        "note": "",
    }
    for bad in ('["3天"]', "3", '{"a": 1}', "[0]", "[3, 3]"):
        response = root_client.post(url, {**base, "reminder_days": bad})
        assert response.status_code == 200, bad  # the form again, with its error
    ok = root_client.post(url, {**base, "reminder_days": "[5, 2]"})
    assert ok.status_code == 302
    from scoring.models import RuleVersion

    assert RuleVersion.objects.get(effective_from=dt.date(2099, 1, 1)).reminder_days == [5, 2]


@pytest.fixture
def full_story():
    """A yellow card, a rejected recommitment, a red card, its item and an inspection."""
    from supervision.services import (
        recommitment_decide,
        recommitment_submit,
        supervision_item_add_inspection,
    )

    unit = UnitFactory()
    staff, leader = make_user("staff", unit), make_user("leader", unit)
    office = make_user("supervisor")
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=dt.datetime(2026, 11, 27, tzinfo=SH))
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=SH), tick=False):
        rec = recommitment_submit(
            node=node, actor=staff, reason="原因", new_due_date=dt.date(2026, 12, 20)
        )
        recommitment_decide(recommitment=rec, actor=leader, approve=False, comment="不同意")
    sweep_run(as_of=dt.datetime(2026, 12, 4, tzinfo=SH))
    from supervision.models import SupervisionItem

    with time_machine.travel(dt.datetime(2026, 12, 4, 10, tzinfo=SH), tick=False):
        supervision_item_add_inspection(
            item=SupervisionItem.objects.get(),
            actor=office,
            mode="online",
            inspected_on=dt.date(2026, 12, 4),
            text="线上督办",
        )


@pytest.mark.parametrize(
    "name",
    [
        "card",
        "recommitment",
        "supervisionitem",
        "inspectionrecord",
        "notification",
        "sweeprun",
    ],
)
def test_every_change_page_and_its_history_link_open(root_client, full_story, name):
    from django.apps import apps

    obj = apps.get_model("supervision", name).objects.first()
    change = root_client.get(reverse(f"admin:supervision_{name}_change", args=[obj.pk]))
    assert change.status_code == 200
    history = root_client.get(reverse(f"admin:supervision_{name}_history", args=[obj.pk]))
    assert history.status_code == 200


def test_the_supervision_office_keeps_the_calendar_in_the_admin(client):
    # given: an account made the way onboarding makes it
    from django.core.management import call_command

    call_command(
        "add_user", "dcb", "--password", "pw-123456789", "--role", "supervisor", stdout=None
    )
    client.login(username="dcb", password="pw-123456789")
    # when
    index = client.get(reverse("admin:index"))
    added = client.post(
        reverse("admin:supervision_calendarday_add"),
        {"date": "2027-01-01", "name": "元旦", "is_workday": ""},
    )
    # then
    assert index.status_code == 200
    assert added.status_code == 302
    assert CalendarDay.objects.get().name == "元旦"
    assert client.get(reverse("admin:scoring_ruleversion_add")).status_code == 200
    assert client.get(reverse("admin:organization_user_add")).status_code == 403
