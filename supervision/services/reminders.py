"""Reminders before a deadline (by default 3 days and 1 day before), each sent once."""

import datetime as dt

from django.utils.translation import gettext as _

from core import clock
from core.bulk import many
from core.formats import date_cn
from projects.models import Node

from .. import rules
from ..choices import NotificationKind
from ..models import Notification
from . import notifications
from .facts import EscalationContext


def reminders_send(*, ctx: EscalationContext, as_of: dt.datetime) -> int:
    """Remind units of deadlines coming up (by default 3 days and 1 day before), once each.

    The candidates come from the open nodes' due-date indexes as bare keys; the reminders
    already made are found through the notifications' event-key index, so only the nodes
    not yet reminded are read whole, and their reminders are written with one insert.
    """
    today = clock.local_date(as_of)
    policy = ctx.policy_on(today)
    if not policy.reminder_days:
        return 0
    horizon = today + dt.timedelta(days=max(policy.reminder_days))
    # Two reads, each on its partial index, rather than one OR that scans the open nodes.
    open_nodes = Node.objects.incomplete().filter(archived_at__isnull=True).order_by()
    fields = ("pk", "due_date", "committed_due_date")
    candidates = [
        *open_nodes.filter(
            committed_due_date__isnull=True, due_date__range=(today, horizon)
        ).values_list(*fields),
        *open_nodes.filter(committed_due_date__range=(today, horizon)).values_list(*fields),
    ]
    due_now: dict[str, tuple[int, dt.date]] = {}
    for pk, due_date, committed_due_date in sorted(candidates):
        due = committed_due_date or due_date
        days = rules.reminder_due(
            due_date=due, today=today, completed=False, reminder_days=policy.reminder_days
        )
        if days is not None:
            due_now[f"reminder:{pk}:{due:%Y%m%d}:{days}"] = (pk, due)
    sent = set(
        Notification.objects.filter(event_key__in=many(list(due_now), cast="varchar"))
        .order_by()
        .values_list("event_key", flat=True)
        .distinct()
    )
    owed = {key: v for key, v in due_now.items() if key not in sent}
    if not owed:
        return 0
    nodes = Node.objects.select_related("project", "unit").in_bulk([pk for pk, _ in owed.values()])
    ctx.people_load({node.unit_id for node in nodes.values()})
    new = []
    for key, (pk, due) in owed.items():
        node = nodes[pk]
        title, body = _reminder_texts(node, due, today)
        new += [
            {
                "recipient_id": recipient_id,
                "kind": NotificationKind.REMINDER,
                "event_key": key,
                "title": title[:200],
                "body": body,
                "node_id": node.pk,
                "created_at": as_of,
            }
            for recipient_id in sorted(ctx.unit_staff(node.unit_id))
        ]
    return notifications.notifications_insert(new)


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
