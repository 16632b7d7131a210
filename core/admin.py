"""Admin building blocks shared by every app."""

from django.http import HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """Admin with a history view for a history-tracked model: old versions are read, never restored.

    SIMPLE_HISTORY_REVERT_DISABLED only hides the revert button: a POST to an old version's
    page would still save it, so that page answers GET only.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """No add, change or delete: the rows are written by services, the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
