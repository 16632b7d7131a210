"""Shared ground for the REST API tests (tests/test_api_*.py): people with tokens, cards, calls.

No tests here. The API test modules import the helpers and load the fixtures with
`pytest_plugins`; the fixtures are not autouse, so other test modules are unaffected.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from organization.models import Unit, User
from organization.tokens import api_token_create
from projects.models import Node, NodeEvent, ProgressReport, Project
from scoring.choices import EntryKind
from scoring.models import PointsEntry, RuleVersion
from supervision.models import Card, Notification, Recommitment, SupervisionItem
from tests.factories import (
    DisposalLineFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    make_user,
)

SH = ZoneInfo("Asia/Shanghai")
# A Monday. The world's node was due on Friday 2026-11-20, so it was breached on
# Saturday 2026-11-21 00:00; the grace window runs to the end of Wednesday 2026-11-25.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)

# The roles of every permission matrix, in the order of house style.
ROLES = ["anonymous", "staff_other", "staff", "leader", "leader_other", "principal", "supervisor"]


def at(text: str) -> dt.datetime:
    """An instant in the county's local time, from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture
def frozen():
    """The clock stopped at NOW (the API modules use it for every test, via pytestmark)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class World:
    """Two departments with a project each; people in every role; a token for each."""

    unit: Unit
    other_unit: Unit
    locality: Unit
    project: Project
    node: Node
    other_project: Project
    other_node: Node
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str | None:
        return self.tokens.get(role)


@pytest.fixture
def world(db) -> World:
    unit = UnitFactory(name="县自然资源局")
    other_unit = UnitFactory(name="县住建局")
    locality = LocalityFactory(name="桃花镇")
    project = ProjectFactory(code="FX-001", name="某纺织厂低效用地收储", locality=locality)
    DisposalLineFactory(project=project, method="takeback", area_mu=Decimal("12.50"))
    node = NodeFactory(
        project=project,
        seq=1,
        name="签订收储协议",
        unit=unit,
        owner="张三",
        due_date=dt.date(2026, 11, 20),
    )
    other_project = ProjectFactory(code="FX-002", name="某机械厂嫁接盘活", locality=locality)
    other_node = NodeFactory(
        project=other_project,
        seq=1,
        name="完成资产评估",
        unit=other_unit,
        due_date=dt.date(2026, 12, 15),
    )
    users = {
        "staff": make_user("staff", unit, username="staff"),
        "staff_other": make_user("staff", other_unit, username="staff_other"),
        "leader": make_user("leader", unit, username="leader"),
        "leader_other": make_user("leader", other_unit, username="leader_other"),
        "principal": make_user("principal", username="principal"),
        "supervisor": make_user("supervisor", username="supervisor"),
    }
    tokens = {role: api_token_create(user=user) for role, user in users.items()}
    return World(
        unit=unit,
        other_unit=other_unit,
        locality=locality,
        project=project,
        node=node,
        other_project=other_project,
        other_node=other_node,
        users=users,
        tokens=tokens,
    )


def rule_version() -> RuleVersion:
    return RuleVersion.objects.order_by("effective_from").first()


def card_make(
    node: Node,
    kind: str = "yellow",
    *,
    breached_at: dt.datetime | None = None,
    issued_at: dt.datetime | None = None,
) -> Card:
    """A card as the sweep would write it, with its deduction in the points ledger."""
    rv = rule_version()
    points = rv.yellow_points if kind == "yellow" else rv.red_points
    deadline = node.due_date if kind == "yellow" else (node.committed_due_date or node.due_date)
    breached_at = breached_at or dt.datetime.combine(
        deadline + dt.timedelta(days=1), dt.time.min, tzinfo=SH
    )
    deduction = PointsEntry.objects.create(
        unit=node.unit,
        kind=EntryKind.CARD_DEDUCTION,
        points=-points,
        rule_version=rv,
        occurred_at=breached_at,
        reason=f"{kind} card",
    )
    card = Card.objects.create(
        deduction=deduction,
        node=node,
        unit=node.unit,
        kind=kind,
        deadline=deadline,
        breached_at=breached_at,
        issued_at=issued_at or breached_at,
        points=points,
        rule_version=rv,
    )
    return card


def card_mark_revoked(card: Card, *, by: User | None = None, reason: str = "误判") -> Card:
    """Mark a card revoked with its reversal entry, as card_revoke would store it."""
    card.reversal = PointsEntry.objects.create(
        unit=card.unit,
        kind=EntryKind.CARD_REVERSAL,
        points=card.points,
        rule_version=card.rule_version,
        occurred_at=card.breached_at,
        reason=f"revoke {card.kind} card",
    )
    card.revoked_at, card.revoked_by, card.revoke_reason = NOW, by, reason
    card.save()
    return card


def item_make(card: Card) -> SupervisionItem:
    """The priority supervision item that a red card opens."""
    return SupervisionItem.objects.create(
        card=card, node=card.node, unit=card.unit, opened_at=card.issued_at
    )


def recommitment_make(node: Node, by: User, **kw) -> Recommitment:
    """A pending recommitment, as recommitment_submit would store it."""
    values = {
        "reason": "征迁补偿协议尚未签订",
        "new_due_date": dt.date(2026, 12, 10),
        "submitted_at": NOW,
    } | kw
    return Recommitment.objects.create(node=node, submitted_by=by, **values)


def snapshot():
    """Everything a request could change, to compare before and after a refused one."""
    return {
        "reports": list(ProgressReport.objects.values_list("id", "node_id", "percent", "note")),
        "nodes": list(
            Node.objects.order_by("pk").values_list(
                "id", "due_date", "committed_due_date", "completed_at", "progress"
            )
        ),
        "recommitments": list(
            Recommitment.objects.order_by("pk").values_list(
                "id", "status", "decided_by_id", "decided_at", "comment", "new_due_date"
            )
        ),
        "cards": list(
            Card.objects.order_by("pk").values_list(
                "id", "revoked_at", "revoked_by_id", "revoke_reason"
            )
        ),
        "items": list(
            SupervisionItem.objects.order_by("pk").values_list(
                "id", "status", "closed_at", "ready_to_close_at"
            )
        ),
        "entries": list(PointsEntry.objects.order_by("pk").values_list("id", "points")),
        "events": NodeEvent.objects.count(),
        "notifications": Notification.objects.count(),
    }


def api_get(client, path: str, token: str | None = None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1/{path}", params, **headers)


def api_post(client, path: str, token: str | None = None, body=None, *, raw: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return client.post(f"/api/v1/{path}", data, content_type="application/json", **headers)


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]
