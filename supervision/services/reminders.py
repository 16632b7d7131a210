"""Reminders before a deadline (by default 3 days and 1 day before), each sent once."""

import datetime as dt

from django.utils.translation import gettext as _

from core import clock
from core.formats import date_cn
from projects.models import Node

from .. import rules
from ..choices import NotificationKind
from ..models import Notification
from .facts import EscalationContext
from .notifications import notifications_create


def reminders_send(*, ctx: EscalationContext, as_of: dt.datetime) -> int:
    """Remind units of deadlines coming up (by default 3 days and 1 day before), once each."""
    today = clock.local_date(as_of)
    policy = ctx.policy_on(today)
    if not policy.reminder_days:
        return 0
    horizon = today + dt.timedelta(days=max(policy.reminder_days))
    # Two reads, each on its partial index, rather than one OR that scans the open nodes.
    open_nodes = (
        Node.objects.incomplete()
        .filter(archived_at__isnull=True)
        .select_related("project", "unit")
        .order_by()
    )
    nodes = sorted(
        [
            *open_nodes.filter(committed_due_date__isnull=True, due_date__range=(today, horizon)),
            *open_nodes.filter(committed_due_date__range=(today, horizon)),
        ],
        key=lambda n: n.pk,
    )
    due_now = []
    for node in nodes:
        due = node.effective_due_date
        days = rules.reminder_due(
            due_date=due, today=today, completed=False, reminder_days=policy.reminder_days
        )
        if days is not None:
            due_now.append((node, due, days, f"reminder:{node.pk}:{due:%Y%m%d}:{days}"))
    # Reminders already made are skipped with one query, not one per node and sweep.
    sent = set(
        Notification.objects.filter(event_key__in=[key for *_, key in due_now])
        .values_list("event_key", flat=True)
        .distinct()
    )
    made = 0
    for node, due, _days, key in due_now:
        if key in sent:
            continue
        title, body = _reminder_texts(node, due, today)
        made += notifications_create(
            recipients=ctx.unit_staff(node.unit_id),
            kind=NotificationKind.REMINDER,
            event_key=key,
            node=node,
            at=as_of,
            title=title,
            body=body,
        )
    return made


def _reminder_texts(node: Node, due: dt.date, today: dt.date) -> tuple[str, str]:
    """Title and body of a reminder; on the due day itself it says 今天到期."""
    names = {"project": node.project, "node": node.name, "unit": node.unit}
    if due == today:
        return (
            _("%(project)s 节点“%(node)s”今天到期") % names,
            _("责任单位：%(unit)s。今天到期，请按时办结。") % names,
        )
    return (
        _("%(project)s 节点“%(node)s”将于%(due)s到期")
        % {**names, "due": date_cn(due, today=today)},
        _("责任单位：%(unit)s。还剩 %(days)s 天，请按时办结。")
        % {**names, "days": (due - today).days},
    )
