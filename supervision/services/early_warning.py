"""The weekly digest of the early warning (序时进度预警): each unit with lagging nodes hears of
them once a week, its staff and its leaders in charge, before any card."""

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.formats import date_cn
from organization.selectors import unit_leaders, unit_staff
from projects.models import Node

from .. import rules
from ..choices import NotificationKind
from ..selectors import escalation_policies_load, nodes_with_lag_facts, policy_in_force
from .notifications import notifications_create


@dataclass(frozen=True)
class LaggingNode:
    """A lagging node and why: points behind its time share, days without a report (None when
    that half of the rule does not apply)."""

    node: Node
    behind_points: int | None
    silent_days: int | None


def lagging_digest_key(*, unit_id: int, day: dt.date) -> str:
    """The event key of a unit's digest in the ISO week of `day`: once per unit, recipient and
    week, whenever in the week the task runs and however often."""
    year, week, _weekday = day.isocalendar()
    return f"lagging:{unit_id}:{year}-W{week:02d}"


def lagging_nodes(*, today: dt.date) -> list[LaggingNode]:
    """The open, unarchived nodes of unarchived projects that lag on `today`, each with why, by
    unit, then effective due date and wall-chart order. One query, besides the rules."""
    policy = policy_in_force(escalation_policies_load(), today)
    nodes = (
        nodes_with_lag_facts(
            Node.objects.filter(
                completed_at__isnull=True,
                archived_at__isnull=True,
                project__archived_at__isnull=True,
            ),
            today=today,
        )
        .filter(lagging=True)
        .select_related("project", "unit")
        .order_by(
            "unit__name",
            "unit_id",
            Coalesce("committed_due_date", "due_date"),
            "project__code",
            "seq",
        )
    )
    found = []
    for node in nodes:
        due = node.effective_due_date
        behind = rules.behind_time_share(
            start=node.lag_start_on,
            due=due,
            today=today,
            progress=node.progress,
            lag_points=policy.lag_points,
        )
        silent = rules.silent_too_long(
            created_on=node.created_on,
            due=due,
            today=today,
            last_report_on=node.last_report_day,
            stale_days=policy.stale_days,
            horizon_days=policy.stale_horizon_days,
        )
        found.append(
            LaggingNode(
                node=node,
                behind_points=(
                    rules.behind_points(
                        start=node.lag_start_on, due=due, today=today, progress=node.progress
                    )
                    if behind
                    else None
                ),
                silent_days=(
                    rules.silent_days(
                        created_on=node.created_on,
                        today=today,
                        last_report_on=node.last_report_day,
                    )
                    if silent
                    else None
                ),
            )
        )
    return found


def _why(entry: LaggingNode) -> str:
    """进度 10%，落后序时进度 48 个百分点，已 20 天未填报进度."""
    reasons = [_("进度 %(progress)s%%") % {"progress": entry.node.progress}]
    if entry.behind_points is not None:
        reasons.append(_("落后序时进度 %(points)s 个百分点") % {"points": entry.behind_points})
    if entry.silent_days is not None:
        reasons.append(_("已 %(days)s 天未填报进度") % {"days": entry.silent_days})
    return _("，").join(reasons)


def lagging_digest_texts(
    *, unit, entries: list[LaggingNode], today: dt.date, policy: rules.EscalationPolicy
) -> tuple[str, str]:
    """Title and body of a unit's weekly digest: each lagging node, why, and its page."""
    site = settings.NODETRACK_SITE_URL.rstrip("/")
    title = _("%(unit)s：%(n)s 个节点进度滞后") % {"unit": unit.name, "n": len(entries)}
    lines = [
        _(
            "以下节点进度滞后，请尽快推进并填报进度，以免到期亮牌"
            "（进度落后于已用时间占比超过 %(points)s 个百分点，"
            "或距到期不超过 %(horizon)s 天且连续 %(days)s 天未填报进度）："
        )
        % {
            "points": policy.lag_points,
            "horizon": policy.stale_horizon_days,
            "days": policy.stale_days,
        }
    ]
    for entry in entries:
        node = entry.node
        lines.append(
            _("· %(project)s 节点“%(node)s”，%(due)s到期：%(why)s。%(url)s")
            % {
                "project": node.project,
                "node": node.name,
                "due": date_cn(node.effective_due_date, today=today),
                "why": _why(entry),
                "url": site + reverse("node", args=[node.pk]),
            }
        )
    return title, "\n".join(lines)


def lagging_digest_send(*, as_of: dt.datetime | None = None) -> int:
    """Tell each unit with lagging nodes about them: one notification (and its e-mail copy) to
    each of its active staff and leaders in charge, once per ISO week. Returns how many were
    made; a second run in the same week makes none."""
    as_of = as_of or clock.now()
    today = clock.local_date(as_of)
    policy = policy_in_force(escalation_policies_load(), today)
    made = 0
    for _unit_id, group in groupby(lagging_nodes(today=today), key=lambda e: e.node.unit_id):
        entries = list(group)
        unit = entries[0].node.unit
        title, body = lagging_digest_texts(unit=unit, entries=entries, today=today, policy=policy)
        made += notifications_create(
            recipients={*unit_staff(unit_id=unit.pk), *unit_leaders(unit_id=unit.pk)},
            kind=NotificationKind.LAGGING_DIGEST,
            event_key=lagging_digest_key(unit_id=unit.pk, day=today),
            node=entries[0].node if len(entries) == 1 else None,
            at=as_of,
            title=title,
            body=body,
        )
    return made
