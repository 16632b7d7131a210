"""Turning database rows into the plain facts that supervision.rules decides on."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from core import clock
from organization.selectors import supervision_office, unit_leaders, unit_staff
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
    _staff: dict[int, list] = field(default_factory=dict)
    _leaders: dict[int, list] = field(default_factory=dict)
    _office: list | None = None

    @classmethod
    def load(cls) -> "EscalationContext":
        return cls(policies=escalation_policies_load(), calendar=WorkingCalendar.load())

    def unit_staff(self, unit_id: int) -> list:
        """The unit's staff, read once per pass."""
        if unit_id not in self._staff:
            self._staff[unit_id] = list(unit_staff(unit_id=unit_id))
        return self._staff[unit_id]

    def card_recipients(self, unit_id: int) -> set:
        """Who hears of a card: the unit's staff, its leaders in charge, the supervision office."""
        if unit_id not in self._leaders:
            self._leaders[unit_id] = list(unit_leaders(unit_id=unit_id))
        if self._office is None:
            self._office = list(supervision_office())
        return set(self.unit_staff(unit_id)) | set(self._leaders[unit_id]) | set(self._office)

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
