"""Pages everyone has: the notifications (the home page is the dashboard, in reports)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..models import Notification
from ..services import notifications_mark_all_read


def notification_list(request):
    """The signed-in user's own notifications, newest first."""
    page = Paginator(
        Notification.objects.filter(recipient=request.user).select_related("node__project"), 30
    ).get_page(request.GET.get("page"))
    return render(request, "supervision/notifications.html", {"page": page})


@require_POST
def notification_read_all(request):
    count = notifications_mark_all_read(actor=request.user)
    messages.success(request, _("已将 %(n)s 条通知标为已读。") % {"n": count})
    return redirect("notifications")
