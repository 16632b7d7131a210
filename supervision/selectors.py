"""Reads about cards, recommitments, supervision items and notifications, scoped to the user."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    CharField,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from core import clock
from organization.selectors import user_scope
from projects.models import Node, Project
from scoring.models import RuleVersion

from . import rules
from .choices import CardKind, ItemStatus, Light, RecommitmentStatus
from .models import Card, InspectionRecord, Notification, Recommitment, SupervisionItem
from .rules import EscalationPolicy


def notification_unread_count(*, user) -> int:
    """How many in-app notifications the user has not read."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def nodes_with_card(queryset: QuerySet[Node]) -> QuerySet[Node]:
    """Annotate each node with `card_kind` (its highest unrevoked card, "red", "yellow" or None)
    and `has_pending` (a recommitment waits for a decision): what its light is made of."""
    active = Card.objects.filter(node=OuterRef("pk"), revoked_at__isnull=True)
    return queryset.annotate(
        card_kind=Case(
            When(Exists(active.filter(kind=CardKind.RED)), then=Value(CardKind.RED.value)),
            When(Exists(active.filter(kind=CardKind.YELLOW)), then=Value(CardKind.YELLOW.value)),
            default=Value(None),
            output_field=CharField(),
        ),
        has_pending=Exists(
            Recommitment.objects.filter(node=OuterRef("pk"), status=RecommitmentStatus.PENDING)
        ),
    )


def light_of(node: Node, *, today=None) -> Light:
    """The light of a node annotated by nodes_with_card."""
    return rules.node_light(
        completed=node.completed_at is not None,
        card_kind=node.card_kind,
        pending_recommitment=node.has_pending,
        effective_due_date=node.effective_due_date,
        today=today or clock.today(),
    )


def node_list_with_card(
    *, user, project: str | None = None, unit: str | None = None, card: str | None = None
) -> QuerySet[Node]:
    """Nodes the user may see, with their highest unrevoked card, filtered by project code,
    unit name and card kind, in wall-chart order (project code, then sequence)."""
    nodes = Node.objects.visible_to(user).select_related("project", "unit")
    if project:
        nodes = nodes.filter(project__code=project)
    if unit:
        nodes = nodes.filter(unit__name=unit)
    nodes = nodes_with_card(nodes)
    if card:
        nodes = nodes.filter(card_kind=card)
    return nodes.order_by("project__code", "seq", "pk")


def project_list_with_nodes(*, user) -> QuerySet[Project]:
    """Projects the user may see, in code order, each with its disposal lines and, in
    `visible_nodes`, the nodes the user may see with their highest unrevoked card."""
    return (
        Project.objects.visible_to(user)
        .select_related("locality")
        .prefetch_related(
            "disposal_lines",
            Prefetch("nodes", queryset=node_list_with_card(user=user), to_attr="visible_nodes"),
        )
        .order_by("code")
    )


def overdue_annotate(queryset: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """Annotate rows about a node (cards, items) with `overdue`, a timedelta: how long the node
    has been past the date it is held to (its approved committed date, else its planned date),
    counted to today, or to the day it was done. Negative while that date is still ahead.

    The one definition of 超期天数 that the lists show and filter on."""
    held_to = Coalesce("node__committed_due_date", "node__due_date")
    until = Coalesce(
        TruncDate("node__completed_at", tzinfo=clock.local_tz()),
        Value(today or clock.today(), output_field=DateField()),
        output_field=DateField(),
    )
    return queryset.annotate(
        overdue=ExpressionWrapper(until - held_to, output_field=DurationField())
    )


def card_list(
    *, user, project: str | None = None, unit: str | None = None, kind: str | None = None
) -> QuerySet[Card]:
    """Cards on the nodes the user may see (revoked ones too), newest breach first, each with
    its node's `overdue` (overdue_annotate)."""
    cards = Card.objects.visible_to(user).select_related(
        "node__project__locality", "unit", "revoked_by"
    )
    if project:
        cards = cards.filter(node__project__code=project)
    if unit:
        cards = cards.filter(unit__name=unit)
    if kind:
        cards = cards.filter(kind=kind)
    return overdue_annotate(cards).order_by("-breached_at", "-pk")


def recommitment_list(*, user, status: str | None = None) -> QuerySet[Recommitment]:
    """Recommitments on the nodes the user may see, newest first."""
    recs = Recommitment.objects.visible_to(user).select_related("node", "decided_by")
    if status:
        recs = recs.filter(status=status)
    return recs.order_by("-submitted_at", "-pk")


def supervision_item_list(*, user, status: str | None = None) -> QuerySet[SupervisionItem]:
    """The priority supervision list, on the nodes the user may see: for leaders and the
    supervision office; anyone else is refused. Each item comes with its node's `overdue`
    (overdue_annotate) and its last inspection (`last_mode`, `last_on`, `last_text`)."""
    scope = user_scope(user=user)
    if not (scope.is_leader or scope.is_supervisor or scope.sees_all):
        raise PermissionDenied(_("只有领导和督查办可以查看重点督办事项。"))
    items = SupervisionItem.objects.visible_to(user).select_related(
        "node__project__locality", "unit", "card", "closed_by"
    )
    if status:
        items = items.filter(status=status)
    last = InspectionRecord.objects.filter(item=OuterRef("pk")).order_by("-inspected_on", "-pk")
    items = items.annotate(
        last_mode=Subquery(last.values("mode")[:1]),
        last_on=Subquery(last.values("inspected_on")[:1]),
        last_text=Subquery(last.values("text")[:1]),
    )
    return overdue_annotate(items).order_by("-opened_at", "-pk")


@dataclass(frozen=True)
class RevocationEffects:
    """What revoking a card would restore, for the confirmation a person reads before it."""

    card: Card
    year: int  # the assessment year the points come back to: that of the breach
    points: Decimal
    open_item: SupervisionItem | None  # the red card's open item, closed by the revocation
    pending: Recommitment | None  # a yellow card's pending recommitment, which lapses
    committed_due_date: dt.date | None  # a yellow card's approved date, which stops ruling
    blocking_red: Card | None  # a yellow card cannot go while this red card stands


def card_revocation_effects(card: Card) -> RevocationEffects:
    """What card_revoke would do to this card's unit, item, recommitment and node, read now."""
    open_item = pending = blocking_red = None
    committed = None
    if card.kind == CardKind.RED:
        open_item = (
            SupervisionItem.objects.filter(card=card, status=ItemStatus.OPEN)
            .select_related("node__project")
            .first()
        )
    else:
        pending = Recommitment.objects.filter(
            node_id=card.node_id, status=RecommitmentStatus.PENDING
        ).first()
        committed = card.node.committed_due_date
        blocking_red = (
            Card.objects.filter(node_id=card.node_id, kind=CardKind.RED, revoked_at__isnull=True)
            .select_related("node__project")
            .first()
        )
    return RevocationEffects(
        card=card,
        year=clock.local_date(card.breached_at).year,
        points=card.points,
        open_item=open_item,
        pending=pending,
        committed_due_date=committed,
        blocking_red=blocking_red,
    )


def escalation_policies_load() -> list[EscalationPolicy]:
    """Every escalation rule version, oldest first (a small table), read from the county's rules."""
    return [
        EscalationPolicy(
            version_id=v.pk,
            effective_from=v.effective_from,
            yellow_points=v.yellow_points,
            red_points=v.red_points,
            grace_workdays=v.grace_workdays,
            # The admin validates the list; a hand-edited row must still not stop the sweep.
            reminder_days=tuple(
                sorted(
                    {
                        d
                        for d in (v.reminder_days if isinstance(v.reminder_days, list) else [])
                        if isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 60
                    },
                    reverse=True,
                )
            ),
        )
        for v in RuleVersion.objects.order_by("effective_from")
    ]
