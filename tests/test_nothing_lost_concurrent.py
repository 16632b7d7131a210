"""Concurrent passes on PostgreSQL: what each prints and stores is what it wrote."""

import datetime as dt

import pytest

from supervision.models import Notification, SweepRun
from tests.factories import NodeFactory, UnitFactory, make_user
from tests.test_concurrency import counts, sweep_processes

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_three_passes_at_once_count_each_reminder_once():
    """Reminders are counted by the pass whose insert stored them, never by two."""
    # given: 150 nodes due in three days, their unit with two staff
    unit = UnitFactory(name="县经信局")
    make_user("staff", unit, username="s1")
    make_user("staff", unit, username="s2")
    NodeFactory.create_batch(150, unit=unit, due_date=dt.date(2026, 11, 23))
    # when: three passes at once
    outputs = sweep_processes(3, "2026-11-20T08:00+08:00")
    # then: 300 reminders stored, 300 printed and 300 in the runs, all told
    assert Notification.objects.filter(kind="reminder").count() == 300
    assert sum(counts(o)["notifications"] for o in outputs) == 300
    assert sum(SweepRun.objects.values_list("notifications", flat=True)) == 300
