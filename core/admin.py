"""Admin building blocks shared by every app."""

import datetime as dt

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

EMPTY = "—"


class ReadableHistory(HistoricalRecordContextHelper):
    """A version's changes as a person reads them, not as they are stored.

    simple_history prints the stored value: "pending" for 待审批, True, a UTC instant,
    None, and "Deleted 用户 (pk=None)" for a link that was empty.
    """

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        return history_value(self.model._meta.get_field(change.field), value)


def history_value(field, value):
    """One old or new value of a history row: a choice by its label, 是/否, local time, — for none."""
    if isinstance(value, DeletedObject):
        if value.pk is None:
            return EMPTY
        return _("已删除的%(model)s（编号%(pk)s）") % {
            "model": value.model._meta.verbose_name,
            "pk": value.pk,
        }
    if value is None or value == "":
        return EMPTY
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return value


class HistoryAdmin(SimpleHistoryAdmin):
    """Admin with a history view for a history-tracked model: old versions are read, never restored.

    SIMPLE_HISTORY_REVERT_DISABLED only hides the revert button: a POST to an old version's
    page would still save it, so that page answers GET only.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)


class ReadOnlyAdminMixin:
    """No add, change or delete: the rows are written by services, the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def form_action(
    model_admin,
    request,
    queryset,
    *,
    form_class,
    template: str,
    title: str,
    apply,
    context: dict | None = None,
):
    """An admin action that first asks for a form, then applies a service to every selected
    row, all or none: `apply(form.cleaned_data)` returns the success message; a refusal
    from the service becomes an error message and nothing is written."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            with transaction.atomic():
                done = apply(form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            model_admin.message_user(
                request, "；".join(getattr(exc, "messages", [str(exc)])), messages.ERROR
            )
            return None
        model_admin.message_user(request, done, messages.SUCCESS)
        return None
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "opts": model_admin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **(context or {}),
        },
    )
