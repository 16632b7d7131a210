"""Unit staff: 我的待办, the node page with its forms, the weekly update, attachments."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import clock
from core.errors import Conflict
from core.files import ALLOWED, upload_max_bytes
from organization.permissions import Action, may
from organization.selectors import recommitment_approvers, unit_leaders, user_scope
from projects.selectors import node_change_history
from projects.services import WeeklyRow, node_progress_report, nodes_progress_report_weekly

from ..choices import CardKind
from ..forms.staff import CompleteForm, ProgressForm, RecommitForm, WeeklyForm, seen_value
from ..selectors import (
    IMAGE_EXTENSIONS,
    archive_reason,
    attachment_for_download,
    node_for_page,
    node_grace_window,
    node_pending_recommitment,
    node_timeline,
    todo_list,
    weekly_node_list,
)
from ..services import node_complete, recommitment_submit


def _staff_only(request):
    """The staff pages list the user's own units' nodes; anyone else goes to their own work."""
    return None if user_scope(user=request.user).staff_unit_ids else redirect("home")


def todo(request):
    """我的待办: the user's units' open nodes that need something, most urgent first."""
    if (elsewhere := _staff_only(request)) is not None:
        return elsewhere
    return render(
        request,
        "staff/todo.html",
        {"entries": todo_list(user=request.user), "today": clock.today(), "nav_active": "todo"},
    )


def node_detail(request, node_id: int):
    """The node page: its light and dates, what the user may do, its timeline and its history."""
    node = node_for_page(user=request.user, node_id=node_id)
    reporter = may(request.user, Action.REPORT, unit_id=node.unit_id)
    open_node = node.completed_at is None and node.archived_at is None
    grace = node_grace_window(node) if open_node else None
    return render(
        request,
        "staff/node.html",
        {
            "node": node,
            "archive_reason": archive_reason(node),
            "pending": node_pending_recommitment(node=node) if node.has_pending else None,
            "grace": grace,
            "cards": list(node.cards.order_by("breached_at", "pk")),
            "can_report": reporter and open_node,
            "can_recommit": reporter and open_node and _may_recommit(node, grace),
            "can_decide": node.has_pending
            and may(request.user, Action.DECIDE, unit_id=node.unit_id),
            "timeline": node_timeline(node=node),
            "history": node_change_history(node=node),
            "nav_active": "todo" if reporter else None,
        },
    )


def _may_recommit(node, grace) -> bool:
    """Offer the recommitment form where the service would take one: a yellow card in force and
    no red card, nothing pending, and a running window not yet past or an approved date."""
    if node.card_kind != CardKind.YELLOW or node.has_pending:
        return False
    if grace is not None:
        return grace.deadline >= clock.today()
    return bool(node.approved_in_cycle)


def _reporter_node(request, node_id: int):
    """A node the user may see (else 404) and report on (else 403)."""
    node = node_for_page(user=request.user, node_id=node_id)
    if not may(request.user, Action.REPORT, unit_id=node.unit_id):
        raise PermissionDenied(_("只有责任单位的经办人可以填报该节点。"))
    return node


def _apply_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError beside the fields it names (else above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _form_page(request, node, form, template: str, **extra):
    context = {
        "node": getattr(form, "refreshed_node", None) or node,
        "form": form,
        "upload_max_mb": upload_max_bytes() // (1024 * 1024),
        "nav_active": "todo",
        **extra,
    }
    return render(request, template, context, status=400 if form.is_bound and form.errors else 200)


def _refreshed(form, node):
    """After a conflict the page shows the node as it is now, so the next submit may stand."""
    data = form.data.copy()
    data["seen"] = seen_value(node)
    form.data = data
    return form


def _submitted(request, node, form, call, success: str):
    """Bind, call the one service, redirect (PRG); on a refusal the form keeps the input, and a
    stale edit shows the node as it is now so the next submit may stand. None: render again."""
    if not form.is_valid():
        return None
    try:
        call(form.cleaned_data)
    except ValidationError as exc:
        _apply_errors(form, exc)
    except Conflict as exc:
        form.add_error(None, exc.message)
        form.refreshed_node = node_for_page(user=request.user, node_id=node.pk)
        _refreshed(form, form.refreshed_node)
    else:
        messages.success(request, success)
        return redirect("node", node_id=node.pk)
    return None


def _unless_completed(request, node, message: str):
    if node.completed_at is not None:
        messages.info(request, message)
        return redirect("node", node_id=node.pk)
    return None


@require_http_methods(["GET", "POST"])
def node_progress(request, node_id: int):
    """填报进度: percent, a note and evidence files."""
    node = _reporter_node(request, node_id)
    if done := _unless_completed(request, node, _("节点已办结，不能再填报进度。")):
        return done
    if request.method == "POST":
        form = ProgressForm(request.POST, request.FILES)
        if response := _submitted(
            request,
            node,
            form,
            lambda data: node_progress_report(
                node=node,
                actor=request.user,
                percent=data["percent"],
                note=data["note"],
                files=data["files"],
                seen_updated_at=data["seen"],
            ),
            _("进度已提交。"),
        ):
            return response
    else:
        form = ProgressForm(initial={"percent": node.progress, "seen": seen_value(node)})
    return _form_page(request, node, form, "staff/progress_form.html")


@require_http_methods(["GET", "POST"])
def node_finish(request, node_id: int):
    """办结: a note and the evidence."""
    node = _reporter_node(request, node_id)
    if done := _unless_completed(request, node, _("节点已办结。")):
        return done
    if request.method == "POST":
        form = CompleteForm(request.POST, request.FILES)
        if response := _submitted(
            request,
            node,
            form,
            lambda data: node_complete(
                node=node,
                actor=request.user,
                note=data["note"],
                files=data["files"],
                seen_updated_at=data["seen"],
            ),
            _("节点已办结。"),
        ):
            return response
    else:
        form = CompleteForm(initial={"seen": seen_value(node)})
    return _form_page(request, node, form, "staff/complete_form.html")


@require_http_methods(["GET", "POST"])
def node_recommit(request, node_id: int):
    """After a yellow card: the overdue reason and a new completion date, for a leader to approve."""
    node = _reporter_node(request, node_id)
    if done := _unless_completed(request, node, _("节点已办结，无需重新承诺。")):
        return done
    if request.method == "POST":
        form = RecommitForm(request.POST)
        if response := _submitted(
            request,
            node,
            form,
            lambda data: recommitment_submit(
                node=node,
                actor=request.user,
                reason=data["reason"],
                new_due_date=data["new_due_date"],
                seen_updated_at=data["seen"],
            ),
            _("已提交，等待领导审批。"),
        ):
            return response
    else:
        if not _may_recommit(node, node_grace_window(node)):
            messages.info(request, _("该节点当前无需说明原因并重新承诺。"))
            return redirect("node", node_id=node.pk)
        form = RecommitForm(initial={"seen": seen_value(node)})
    leaders = list(unit_leaders(unit_id=node.unit_id).order_by("full_name", "pk"))
    principals = (
        recommitment_approvers(unit_id=node.unit_id)
        .exclude(pk__in=[u.pk for u in leaders])
        .order_by("full_name", "pk")
    )
    return _form_page(
        request,
        node,
        form,
        "staff/recommit_form.html",
        grace=node_grace_window(node),
        leaders=[u.display_name for u in leaders],
        principals=[u.display_name for u in principals],
        today=clock.today(),
    )


def _weekly_refreshed(form, user, errors: dict) -> None:
    """Rows another person changed meanwhile are shown with what they hold now, so the next
    submit of the same page may stand, with every other row's input kept."""
    whole_row = {int(key) for key in errors if key.isdigit()}
    if not whole_row:
        return
    data = form.data.copy()
    for node in weekly_node_list(user=user).filter(pk__in=whole_row):
        data[f"seen_{node.pk}"] = seen_value(node)
    form.data = data


@require_http_methods(["GET", "POST"])
def weekly(request):
    """每周填报: every open node of the user's units on one page, saved in one submit."""
    if (elsewhere := _staff_only(request)) is not None:
        return elsewhere
    nodes = list(weekly_node_list(user=request.user))
    if request.method == "POST":
        form = WeeklyForm(request.POST, nodes=nodes)
        if form.is_valid():
            rows = [
                WeeklyRow(
                    node_id=node.pk,
                    percent=form.cleaned_data[f"percent_{node.pk}"],
                    note=form.cleaned_data[f"note_{node.pk}"],
                    seen_updated_at=form.cleaned_data[f"seen_{node.pk}"],
                )
                for node in nodes
            ]
            try:
                reports = nodes_progress_report_weekly(actor=request.user, rows=rows)
            except ValidationError as exc:
                for key, errors in exc.message_dict.items():
                    node_id, _dot, field = key.partition(".")
                    name = f"{field or 'seen'}_{node_id}"
                    form.add_error(name if name in form.fields else None, errors)
                _weekly_refreshed(form, request.user, exc.message_dict)
            else:
                if reports:
                    messages.success(
                        request, _("已提交 %(n)s 个节点的进度。") % {"n": len(reports)}
                    )
                else:
                    messages.info(request, _("没有改动，未提交任何进度。"))
                return redirect("weekly")
        messages.error(request, _("有节点未能提交，请按提示修改；所有节点均未保存。"))
    else:
        form = WeeklyForm(nodes=nodes)
    return render(
        request,
        "staff/weekly.html",
        {"form": form, "nav_active": "weekly"},
        status=400 if form.is_bound else 200,
    )


def download_name(name: str, ext: str) -> str:
    """The uploader's name, with the extension its checked content has (a GIF named g.svg is
    downloaded as g.gif)."""
    stem, dot, own = (name or "").rpartition(".")
    if not dot:
        stem = name or "file"
    if ext and own.lower() != ext and not (own.lower() in ("jpeg", "jpe") and ext == "jpg"):
        return f"{stem}.{ext}"
    return name


def attachment_download(request, kind: str, attachment_id: int):
    """An evidence file, only for people whose scope covers its node (else 404), as a download;
    images may be shown inline (?inline=1) for the node page's thumbnails."""
    attachment = attachment_for_download(user=request.user, kind=kind, attachment_id=attachment_id)
    ext = attachment.file.name.rsplit(".", 1)[-1].lower() if "." in attachment.file.name else ""
    inline = request.GET.get("inline") == "1" and ext in IMAGE_EXTENSIONS
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("附件文件已不存在。")) from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=download_name(attachment.name, ext),
        content_type=ALLOWED.get(ext, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Evidence is not left in the cache of a shared office computer after its user signs out.
    response["Cache-Control"] = "private, no-store"
    return response
