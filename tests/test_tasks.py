"""The django-q2 entry points and the schedule."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django_q.models import Schedule

from supervision import tasks
from supervision.models import Card, SweepRun
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db


def test_setup_schedules_is_idempotent(settings):
    settings.NODETRACK_SWEEP_MINUTES = 10
    call_command("setup_schedules")
    call_command("setup_schedules")
    schedule = Schedule.objects.get(name="nodetrack.sweep")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "supervision.tasks.sweep",
        Schedule.MINUTES,
        10,
        -1,
    )
    assert schedule.next_run is not None
    assert settings.Q_CLUSTER["catch_up"] is False
    email = Schedule.objects.get(name="nodetrack.email")
    assert (email.func, email.schedule_type, email.minutes, email.repeats) == (
        "supervision.tasks.email_deliver",
        Schedule.MINUTES,
        5,
        -1,
    )
    assert Schedule.objects.filter(name="nodetrack.email").count() == 1


@time_machine.travel(dt.datetime(2026, 11, 21, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_the_task_runs_one_pass_as_of_now(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda name: queued.append(name))
    NodeFactory(unit=UnitFactory(), due_date=dt.date(2026, 11, 20))
    assert tasks.sweep() == "yellow=1 red=0 items=0 notifications=0"
    assert Card.objects.count() == 1 and SweepRun.objects.get().error == ""
    assert queued == []  # nobody to tell, no e-mail to send


@time_machine.travel(dt.datetime(2026, 11, 21, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_a_pass_that_made_notifications_queues_their_email(monkeypatch, mailoutbox):
    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda name: queued.append(name))
    unit = UnitFactory()
    make_user("staff", unit, username="s1")
    NodeFactory(unit=unit, due_date=dt.date(2026, 11, 20))
    assert tasks.sweep() == "yellow=1 red=0 items=0 notifications=1"
    assert (queued, mailoutbox) == (["supervision.tasks.email_deliver"], [])
    assert tasks.email_deliver() == "sent=1"
    assert [m.to for m in mailoutbox] == [["s1@example.cn"]]


def test_a_failed_pass_is_a_failed_task(monkeypatch):
    from supervision.services import escalation

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(escalation, "_escalate_due_nodes", broken)
    with pytest.raises(RuntimeError, match="database went away"):
        tasks.sweep()
    run = SweepRun.objects.get()
    assert "database went away" in run.error and run.finished_at is not None
