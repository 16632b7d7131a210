"""Turning database rows into the plain facts that supervision.rules decides on."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from core import clock
from organization.choices import Role
from organization.selectors import supervision_office, units_people
from projects.models import Node

from .. import rules
from ..calendar import WorkingCalendar
from ..choices import CardKind
from ..models import Card, Recommitment
from ..selectors import escalation_policies_load

# Stored in Node.next_escalation_at when no card can come any more. NULL means "not yet
# worked out": the sweep picks such nodes up, so any write that changes a node's facts
# only has to clear the field (nodes_refresh_escalation).
ESCALATION_SETTLED = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


@dataclass
class EscalationContext:
    """What every decision of one pass shares: the rules in force and the working calendar."""

    policies: list[rules.EscalationPolicy]
    calendar: WorkingCalendar
    _staff: dict[int, set[int]] = field(default_factory=dict)
    _leaders: dict[int, set[int]] = field(default_factory=dict)
    _office: set[int] | None = None

    @classmethod
    def load(cls) -> "EscalationContext":
        return cls(policies=escalation_policies_load(), calendar=WorkingCalendar.load())

    def people_load(self, unit_ids: Iterable[int]) -> None:
        """Read who works in and leads the units not yet known this pass: two queries a batch."""
        missing = set(unit_ids) - self._staff.keys()
        if missing:
            self._staff |= units_people(unit_ids=missing, roles=[Role.STAFF])
            self._leaders |= units_people(unit_ids=missing, roles=[Role.LEADER])
        if self._office is None:
            self._office = set(supervision_office().values_list("pk", flat=True))

    def unit_staff(self, unit_id: int) -> set[int]:
        """The ids of the unit's active staff, read once per pass."""
        self.people_load([unit_id])
        return self._staff[unit_id]

    def card_recipients(self, unit_id: int) -> set[int]:
        """Who hears of a card (ids): the unit's staff, its leaders in charge, the office."""
        self.people_load([unit_id])
        return self._staff[unit_id] | self._leaders[unit_id] | self._office

    def policy_on(self, day: dt.date) -> rules.EscalationPolicy:
        return rules.policy_on(self.policies, day)

    def grace_workdays(self, facts: rules.NodeFacts) -> int:
        """The grace window in force when the node's yellow card was issued."""
        anchor = clock.local_date(facts.yellow.issued_at) if facts.yellow else facts.due_date
        return self.policy_on(anchor).grace_workdays

    def evaluate(self, facts: rules.NodeFacts, as_of: dt.datetime) -> rules.Evaluation:
        return rules.evaluate(
            facts,
            as_of,
            grace_workdays=self.grace_workdays(facts),
            is_workday=self.calendar.is_workday,
        )


def node_facts(nodes: Iterable[Node]) -> dict[int, rules.NodeFacts]:
    """The facts of each node, with two queries for the whole batch."""
    nodes = list(nodes)
    ids = [n.pk for n in nodes]
    cards: dict[int, dict[str, rules.CardFact]] = defaultdict(dict)
    revoked: dict[int, set[tuple[str, dt.date]]] = defaultdict(set)
    for node_id, kind, deadline, issued_at, breached_at, revoked_at in (
        Card.objects.filter(node_id__in=ids)
        .order_by()
        .values_list("node_id", "kind", "deadline", "issued_at", "breached_at", "revoked_at")
    ):
        if revoked_at is None:
            cards[node_id][kind] = rules.CardFact(kind, issued_at, breached_at)
        else:
            revoked[node_id].add((kind, deadline))
    recs: dict[int, list[rules.RecommitmentFact]] = defaultdict(list)
    for node_id, submitted_at, status, decided_at, new_due_date in (
        Recommitment.objects.filter(node_id__in=ids)
        .order_by()
        .values_list("node_id", "submitted_at", "status", "decided_at", "new_due_date")
    ):
        recs[node_id].append(rules.RecommitmentFact(submitted_at, status, decided_at, new_due_date))
    return {
        n.pk: rules.NodeFacts(
            due_date=n.due_date,
            committed_due_date=n.committed_due_date,
            completed_at=n.completed_at,
            yellow=cards[n.pk].get(CardKind.YELLOW),
            red=cards[n.pk].get(CardKind.RED),
            recommitments=tuple(recs[n.pk]),
            revoked=frozenset(revoked[n.pk]),
        )
        for n in nodes
    }
