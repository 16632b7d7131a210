"""On the demo data the sweep issues exactly the cards the rules say, once or twice, run after run."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from core import clock
from projects.models import Node
from scoring.models import PointsEntry
from supervision.models import Card, SupervisionItem

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)  # a Monday


def expected_yellow(as_of: dt.datetime) -> set[int]:
    """Nodes whose planned date was breached by `as_of` and that were not done before the breach."""
    result = set()
    for node in Node.objects.all():
        breach = clock.end_of_day_instant(node.due_date)
        if breach <= as_of and (node.completed_at is None or node.completed_at >= breach):
            result.add(node.pk)
    return result


def cards(kind: str) -> set[int]:
    return set(Card.objects.filter(kind=kind).values_list("node_id", flat=True))


@time_machine.travel(NOW, tick=False)
def test_sweep_on_the_demo_issues_exactly_the_cards_the_rules_say(capsys):
    # given
    call_command("load_demo", verbosity=0)
    capsys.readouterr()
    overdue = expected_yellow(NOW)
    assert len(overdue) >= 10
    # when: once, then twice more
    call_command("sweep", "--now", NOW.isoformat())
    first = capsys.readouterr().out.strip().splitlines()[-1]
    call_command("sweep", "--now", NOW.isoformat())
    second = capsys.readouterr().out.strip().splitlines()[-1]
    # then
    assert first.startswith(f"yellow={len(overdue)} red=0 items=0 notifications=")
    assert second == "yellow=0 red=0 items=0 notifications=0"
    assert cards("yellow") == overdue
    assert PointsEntry.objects.count() == len(overdue)
    for card in Card.objects.select_related("node"):
        assert card.breached_at == clock.end_of_day_instant(card.node.due_date)
        assert card.issued_at == NOW

    # when: a week later, with no recommitment submitted (grace ended Thursday 12-03)
    later = NOW + dt.timedelta(days=7)
    call_command("sweep", "--now", later.isoformat())
    # then: every yellow card of a node still open is followed by a red one, at 12-04 00:00
    still_open = {n for n in overdue if Node.objects.get(pk=n).completed_at is None}
    assert cards("red") == still_open
    assert set(Card.objects.filter(kind="red").values_list("breached_at", flat=True)) == {
        dt.datetime(2026, 12, 4, tzinfo=SH)
    }
    assert SupervisionItem.objects.count() == len(still_open)
    assert cards("yellow") == expected_yellow(later)
