"""A "待您审批" notification is done for every approver once one decides or the request lapses."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from supervision.models import Card, Notification, Recommitment
from supervision.services import (
    card_revoke,
    node_complete,
    recommitment_decide,
    recommitment_submit,
    sweep_run,
)
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture
def unit():
    return UnitFactory(name="县自然资源局")


@pytest.fixture
def people(unit):
    """Two leaders in charge of the unit and a principal leader: three approvers."""
    return {
        "staff": make_user("staff", unit, username="staff"),
        "leader1": make_user("leader", unit, username="leader1"),
        "leader2": make_user("leader", unit, username="leader2"),
        "principal": make_user("principal", username="principal"),
        "office": make_user("supervisor", username="office"),
    }


@pytest.fixture
def pending(unit, people):
    """A yellow-carded node with a recommitment waiting for one of the three approvers."""
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 09:00"))
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        return recommitment_submit(
            node=node, actor=people["staff"], reason="征迁未完成", new_due_date=dt.date(2026, 12, 5)
        )


def waiting(rec: Recommitment) -> dict[str, dt.datetime | None]:
    """Each approver's "待您审批" notification of the recommitment, and when it was read."""
    return dict(
        Notification.objects.filter(
            kind="recommitment_waiting", event_key=f"recommitment:{rec.pk}:waiting"
        ).values_list("recipient__username", "read_at")
    )


def unread_other(people) -> list[tuple[str, str]]:
    """Everything else still unread: the card notices, the decision to the unit."""
    return sorted(
        Notification.objects.filter(read_at__isnull=True)
        .exclude(kind="recommitment_waiting")
        .values_list("recipient__username", "kind")
    )


@pytest.mark.parametrize("approve", [True, False])
def test_one_leader_decides_and_every_approvers_request_is_done(people, pending, approve):
    """When one of the leaders decides, the "待您审批" of every approver (the other leader in
    charge, the principal, and the decider) is marked read at the decision."""
    # given
    assert waiting(pending) == {"leader1": None, "leader2": None, "principal": None}
    before = unread_other(people)
    # when
    with time_machine.travel(at("2026-12-01 09:30"), tick=False):
        recommitment_decide(
            recommitment=pending, actor=people["leader2"], approve=approve, comment="意见"
        )
    # then
    decided = at("2026-12-01 09:30")
    assert waiting(pending) == {"leader1": decided, "leader2": decided, "principal": decided}
    assert unread_other(people) == sorted([*before, ("staff", "recommitment_decided")])


def test_a_request_read_earlier_keeps_its_read_time(people, pending):
    """An approver who had already opened the request keeps the time they read it."""
    # given
    read = at("2026-11-30 11:00")
    Notification.objects.filter(recipient=people["principal"], kind="recommitment_waiting").update(
        read_at=read
    )
    # when
    with time_machine.travel(at("2026-12-01 09:30"), tick=False):
        recommitment_decide(recommitment=pending, actor=people["leader1"], approve=True)
    # then
    assert waiting(pending)["principal"] == read


def test_a_request_that_lapses_when_the_node_is_completed_is_done_for_all(people, pending):
    """Completing the node lapses the pending recommitment, and every approver's request is done."""
    # when
    with time_machine.travel(at("2026-12-01 16:00"), tick=False):
        node_complete(node=pending.node, actor=people["staff"])
    # then
    pending.refresh_from_db()
    assert pending.status == "lapsed"
    done = at("2026-12-01 16:00")
    assert waiting(pending) == {"leader1": done, "leader2": done, "principal": done}


def test_a_request_that_lapses_when_the_yellow_card_is_revoked_is_done_for_all(people, pending):
    """Revoking the yellow card lapses the recommitment; nobody is left asked to approve it."""
    # when
    with time_machine.travel(at("2026-12-01 16:00"), tick=False):
        card_revoke(card=Card.objects.get(kind="yellow"), actor=people["office"], reason="误判")
    # then
    done = at("2026-12-01 16:00")
    assert waiting(pending) == {"leader1": done, "leader2": done, "principal": done}


def test_a_request_that_lapses_with_a_red_card_is_done_for_all(unit, people):
    """A red card from a missed approved date lapses a second pending recommitment; its
    requests are done for every approver, as of the sweep."""
    # given: an approved date of 12-05, then a second request before it passes
    node = NodeFactory(unit=unit, due_date=dt.date(2026, 11, 26))
    sweep_run(as_of=at("2026-11-27 09:00"))
    with time_machine.travel(at("2026-11-30 10:00"), tick=False):
        first = recommitment_submit(
            node=node, actor=people["staff"], reason="征迁未完成", new_due_date=dt.date(2026, 12, 5)
        )
        recommitment_decide(recommitment=first, actor=people["leader1"], approve=True)
    with time_machine.travel(at("2026-12-04 10:00"), tick=False):
        second = recommitment_submit(
            node=node, actor=people["staff"], reason="仍需时间", new_due_date=dt.date(2026, 12, 20)
        )
    # when
    sweep_run(as_of=at("2026-12-06 00:05"))
    # then
    second.refresh_from_db()
    assert second.status == "lapsed"
    swept = at("2026-12-06 00:05")
    assert waiting(second) == {"leader1": swept, "leader2": swept, "principal": swept}
