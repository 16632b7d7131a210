"""Where a notification leads: the page where its work is done."""

from django import template
from django.urls import reverse

from supervision.choices import NotificationKind

register = template.Library()


@register.filter
def notification_url(notification) -> str:
    """A recommitment waiting for a decision → its card in the approval inbox; a card, a
    reminder or a decision → the node's page; a weekly digest of lagging nodes → the node's
    page when it names one, else the projects with lagging nodes; else nothing."""
    if notification.kind == NotificationKind.RECOMMITMENT_WAITING:
        # event key "recommitment:<id>:waiting" (recommitment_submit)
        parts = notification.event_key.split(":")
        if len(parts) == 3 and parts[0] == "recommitment" and parts[1].isdigit():
            return f"{reverse('approvals')}#rec-{parts[1]}"
        return reverse("approvals")
    if notification.node_id:
        return reverse("node", args=[notification.node_id])
    if notification.kind == NotificationKind.LAGGING_DIGEST:
        return f"{reverse('projects')}?light=lagging"
    return ""
