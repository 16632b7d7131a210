"""The django-q2 entry points and the schedule."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django_q.models import Schedule

from supervision import tasks
from supervision.models import Card, SweepRun
from tests.factories import NodeFactory, UnitFactory

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


@time_machine.travel(dt.datetime(2026, 11, 21, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_the_task_runs_one_pass_as_of_now():
    NodeFactory(unit=UnitFactory(), due_date=dt.date(2026, 11, 20))
    assert tasks.sweep() == "yellow=1 red=0 items=0 notifications=0"
    assert Card.objects.count() == 1 and SweepRun.objects.get().error == ""


def test_a_failed_pass_is_a_failed_task(monkeypatch):
    from supervision.services import escalation

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(escalation, "_escalate_due_nodes", broken)
    with pytest.raises(RuntimeError, match="database went away"):
        tasks.sweep()
    run = SweepRun.objects.get()
    assert "database went away" in run.error and run.finished_at is not None
