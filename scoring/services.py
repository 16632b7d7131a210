"""Writes to the points ledger that are not a card's: the office's bonuses and adjustments,
and the automatic bonus for a node completed ahead of plan."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.formats import points_text
from core.i18n import in_record_language
from core.text import text_clean
from core.versioning import in_force
from organization.models import Unit, User
from organization.permissions import Action, require
from projects.models import Node

from .choices import EntryKind
from .models import POINTS_MAX, PointsEntry, RuleVersion

# An office entry moves a unit's score by at most as much as the largest card's deduction.
ENTRY_POINTS_MAX = Decimal(POINTS_MAX)
REASON_MAX = 500  # PointsEntry.reason
OFFICE_KINDS = (EntryKind.BONUS, EntryKind.ADJUSTMENT)


def _points_clean(kind: str, value) -> tuple[Decimal | None, str | None]:
    """The points as a Decimal of two places, or the error message."""
    try:
        points = Decimal(str(value)) if value is not None and value != "" else None
    except InvalidOperation:
        points = None
    if points is None or not points.is_finite():
        return None, _("请填写分值。")
    if points != points.quantize(Decimal("0.01")):
        return None, _("分值最多保留两位小数。")
    if abs(points) > ENTRY_POINTS_MAX:
        return None, _("分值不能超过±%(max)s分。") % {"max": points_text(ENTRY_POINTS_MAX)}
    if kind == EntryKind.BONUS and points <= 0:
        return None, _("加分须大于0。")
    if kind == EntryKind.ADJUSTMENT and points == 0:
        return None, _("调整分值不能为0。")
    return points.quantize(Decimal("0.01")), None


@in_record_language
@transaction.atomic
def points_entry_record(
    *,
    actor: User,
    unit: Unit,
    kind: str,
    points,
    reason: str,
    occurred_on: dt.date,
    node: Node | None = None,
) -> PointsEntry:
    """The supervision office records a bonus (加分, > 0) or an adjustment (调整, ≠ 0, either
    sign) for a unit with a reason, dated on a day up to today; at most ±20 points. Kept in
    the entry's history with who recorded it; a correction is another entry."""
    require(actor, Action.SUPERVISE, message=_("只有督查办可以记录加分或调整。"))
    errors: dict[str, list[str]] = {}
    if kind not in OFFICE_KINDS:
        errors["kind"] = [_("请选择加分或调整。")]
    else:
        points, message = _points_clean(kind, points)
        if message:
            errors["points"] = [message]
    try:
        reason = text_clean(reason, field="reason", label=_("事由"), max_length=REASON_MAX)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if occurred_on is None:
        errors["occurred_on"] = [_("请填写计分日期。")]
    elif occurred_on > clock.today():
        errors["occurred_on"] = [_("计分日期不能晚于今天。")]
    elif occurred_on.year < 2000:
        errors["occurred_on"] = [_("计分日期不能早于2000年。")]
    if not unit.is_active:
        errors.setdefault("__all__", []).append(_("该单位已停用。"))
    if node is not None and node.unit_id != unit.pk:
        errors["node"] = [_("该节点不由此单位负责。")]
    if errors:
        raise ValidationError(errors)
    entry = PointsEntry(
        unit=unit,
        kind=kind,
        points=points,
        reason=reason,
        occurred_at=clock.start_of_day(occurred_on),
        created_by=actor,
        node=node,
    )
    entry.full_clean()
    audited_save(
        entry, actor=actor, reason=_("督查办记录%(kind)s") % {"kind": entry.get_kind_display()}
    )
    return entry


def early_bonus_key(node: Node) -> str:
    return f"early:{node.pk}"


@in_record_language
def node_early_bonus_award(
    *, node: Node, completed_at: dt.datetime, actor: User | None = None
) -> PointsEntry | None:
    """The bonus of the rule in force on the completion day for a node completed before its
    planned date (计划完成日期), to its responsible unit; once per node, whatever happens later
    (the event key is unique in the database). None when no bonus is due: on time or late,
    or the rule gives 0 points (the default). Runs in a savepoint, so a bonus already
    awarded leaves the caller's transaction intact."""
    day = clock.local_date(completed_at)
    if day >= node.due_date:
        return None
    versions = list(RuleVersion.objects.only("pk", "effective_from", "early_bonus_points"))
    rule = in_force(versions, day) if versions else None
    points = rule.early_bonus_points if rule else Decimal(0)
    if not points:
        return None
    entry = PointsEntry(
        unit_id=node.unit_id,
        node=node,
        kind=EntryKind.BONUS,
        points=points,
        rule_version=rule,
        occurred_at=completed_at,
        created_by=actor,
        event_key=early_bonus_key(node),
        reason=(
            _("%(project)s 节点“%(node)s”提前%(days)s天办结，加%(points)s分")
            % {
                "project": node.project,
                "node": node.name,
                "days": (node.due_date - day).days,
                "points": points_text(points),
            }
        )[:REASON_MAX],
    )
    try:
        with transaction.atomic():
            audited_save(entry, actor=actor, reason=_("提前完成加分"))
    except IntegrityError:
        return None  # awarded already (completed before, or by a concurrent transaction)
    return entry
