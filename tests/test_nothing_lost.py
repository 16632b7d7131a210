"""Nothing is lost: e-mail copies retried until accepted, killed sweeps closed, counts exact."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from supervision import tasks
from supervision.models import Card, Notification, SupervisionItem, SweepRun
from supervision.services import notifications as notifications_module
from supervision.services import notifications_create, notifications_deliver, sweep_run
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


class DeadServerBackend(EmailBackend):
    """A mail server that refuses every message while `down` is true."""

    down = True

    def send_messages(self, messages):
        if DeadServerBackend.down:
            raise ConnectionRefusedError("SMTP server unreachable")
        return super().send_messages(messages)


@pytest.fixture
def dead_server(settings):
    settings.EMAIL_BACKEND = "tests.test_nothing_lost.DeadServerBackend"
    DeadServerBackend.down = True
    mail.outbox = []
    yield DeadServerBackend
    DeadServerBackend.down = False


@pytest.fixture
def unit():
    return UnitFactory(name="县经信局")


@pytest.fixture
def staff(unit):
    return make_user("staff", unit, username="staff")


def notify(staff, key="reminder:x", when="2026-11-20 09:00"):
    with time_machine.travel(at(when), tick=False):
        return notifications_create(
            recipients=[staff], kind="reminder", event_key=key, title="节点将到期", at=at(when)
        )


def test_a_refused_email_is_not_marked_and_is_retried_with_backoff_until_accepted(
    staff, dead_server, django_capture_on_commit_callbacks
):
    """A copy is marked e-mailed only once the server accepted it; failures wait and retry."""
    # given: a notification whose e-mail the dead server refuses after commit
    with (
        time_machine.travel(at("2026-11-20 09:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notify(staff) == 1
    n = Notification.objects.get()
    assert (n.emailed_at, n.email_attempts, n.email_next_at) == (None, 1, at("2026-11-20 09:05"))
    # when: a pass before the next try is due
    with time_machine.travel(at("2026-11-20 09:04"), tick=False):
        assert notifications_deliver() == 0
    # then: not tried again yet
    n.refresh_from_db()
    assert n.email_attempts == 1
    # when: the second try is due, the server still down
    with time_machine.travel(at("2026-11-20 09:05"), tick=False):
        assert notifications_deliver() == 0
    # then: the wait doubles
    n.refresh_from_db()
    assert (n.emailed_at, n.email_attempts, n.email_next_at) == (None, 2, at("2026-11-20 09:15"))
    assert mail.outbox == []
    # when: the server is back, passes after the next try is due
    dead_server.down = False
    with time_machine.travel(at("2026-11-20 09:15"), tick=False):
        assert notifications_deliver() == 1
    with time_machine.travel(at("2026-11-20 10:00"), tick=False):
        assert notifications_deliver() == 0
    # then: sent exactly once, marked at the moment it was accepted
    assert [(m.subject, m.to) for m in mail.outbox] == [("节点将到期", [staff.email])]
    n.refresh_from_db()
    assert (n.emailed_at, n.email_attempts, n.email_next_at) == (at("2026-11-20 09:15"), 3, None)


def test_the_email_task_retries_the_copies_a_dead_server_refused(staff, dead_server):
    # given: a copy the server refused once
    notify(staff)
    with time_machine.travel(at("2026-11-20 09:00"), tick=False):
        notifications_deliver()
    dead_server.down = False
    # when: the next runs of the e-mail task, the second after the wait
    with time_machine.travel(at("2026-11-20 09:03"), tick=False):
        assert tasks.email_deliver() == "sent=0"
    assert mail.outbox == []
    with time_machine.travel(at("2026-11-20 09:10"), tick=False):
        assert tasks.email_deliver() == "sent=1"
        assert tasks.email_deliver() == "sent=0"
    # then: sent once
    assert [(m.subject, m.to) for m in mail.outbox] == [("节点将到期", [staff.email])]
    assert Notification.objects.get().emailed_at == at("2026-11-20 09:10")


def test_a_copy_is_given_up_after_the_last_attempt(staff, dead_server):
    # given: a copy refused at every try
    notify(staff)
    now = at("2026-11-20 09:00")
    for _ in range(notifications_module.EMAIL_MAX_ATTEMPTS):
        with time_machine.travel(now, tick=False):
            notifications_deliver()
        now += dt.timedelta(hours=6)
    # when: the server is back
    dead_server.down = False
    with time_machine.travel(now + dt.timedelta(days=1), tick=False):
        sent = notifications_deliver()
    # then: no more tries; the in-app notification stays, unmarked
    n = Notification.objects.get()
    assert (sent, n.email_attempts, n.emailed_at, mail.outbox) == (0, 8, None, [])


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (5, 80), (6, 160), (7, 320), (8, 360)],
)
def test_the_wait_between_tries_doubles_up_to_six_hours(attempts, wait):
    assert notifications_module.email_retry_delay(attempts) == dt.timedelta(minutes=wait)


def test_a_recipient_without_address_is_not_tried_again(dead_server):
    # given: a person with no e-mail address
    nobody = make_user("staff", UnitFactory(), username="nomail")
    nobody.email = ""
    nobody.save()
    notify(nobody)
    # when
    with time_machine.travel(at("2026-11-20 09:00"), tick=False):
        sent = notifications_deliver()
    # then
    n = Notification.objects.get()
    assert (sent, n.email_attempts, n.emailed_at, mail.outbox) == (0, 8, None, [])


def test_a_killed_sweep_is_closed_as_failed_by_the_next_pass_with_what_it_committed(unit, staff):
    # given: a pass killed after it issued one yellow card (deduction, notifications)
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 25))
    with time_machine.travel(at("2026-11-21 08:00"), tick=False):
        first = sweep_run(as_of=at("2026-11-21 08:00"))
    SweepRun.objects.filter(pk=first.pk).update(
        finished_at=None, yellow=0, notifications=0, nodes_checked=0
    )
    # when: the next pass, ten minutes later
    with time_machine.travel(at("2026-11-21 08:10") + dt.timedelta(seconds=30), tick=False):
        second = sweep_run(as_of=at("2026-11-21 08:10"))
    # then: the killed run is closed, failed, with the rows it had written
    first.refresh_from_db()
    assert (first.finished_at, first.yellow, first.red, first.items, first.notifications) == (
        at("2026-11-21 08:10") + dt.timedelta(seconds=30),
        1,
        0,
        0,
        Notification.objects.filter(created_at=at("2026-11-21 08:00")).count(),
    )
    assert first.notifications == 1
    assert first.error == "巡检未正常结束（进程中断），由后续巡检关闭；计数为其已提交的记录。"
    assert (second.yellow, second.error) == (0, "")
    assert Card.objects.count() == 1


def test_a_run_still_within_the_task_timeout_is_left_alone(staff):
    # given: a pass that started five minutes ago and is still running
    running = SweepRun.objects.create(
        started_at=at("2026-11-21 08:00"), as_of=at("2026-11-21 08:00")
    )
    # when
    with time_machine.travel(at("2026-11-21 08:05"), tick=False):
        sweep_run(as_of=at("2026-11-21 08:05"))
    # then: nothing changed
    running.refresh_from_db()
    assert (running.finished_at, running.error, running.yellow) == (None, "", 0)


def test_a_reminder_another_pass_inserted_first_is_not_counted(unit, staff, monkeypatch):
    """Concurrent passes: each counts only the notifications it inserted itself."""
    # given: a node due in three days, and another pass that inserts the same reminder
    # between this pass's check and its insert
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 23))
    real = notifications_module.notifications_insert

    def other_pass_first(new):
        real([dict(row) for row in new])
        return real(new)

    monkeypatch.setattr(notifications_module, "notifications_insert", other_pass_first)
    # when
    with time_machine.travel(at("2026-11-20 08:00"), tick=False):
        run = sweep_run(as_of=at("2026-11-20 08:00"))
    # then: one reminder stored, none counted by this pass
    assert Notification.objects.filter(kind="reminder").count() == 1
    assert (run.notifications, run.counts.notifications) == (0, 0)
    assert SupervisionItem.objects.count() == 0
