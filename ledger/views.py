"""The supervision office uploads a ledger, sees the dry run, then imports it.

Who may: the import records planned dates and completions taken from the ledger
(node_change_due_date, node_complete with source "ledger"), which organization.permissions
gives to Action.PLAN: the supervision office (and the system account, which never signs
in). ledger_import itself does not check, since the command line runs it as the system
account; the page checks PLAN before it stores a byte, and the node services check it
again on each write.
"""

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from core.tabular import FORMATS, table_response
from organization.permissions import Action, require

from .batches import BACKGROUND_ROWS, ledger_row_count
from .exporting import HEADER, ledger_filename, ledger_projects, ledger_rows
from .forms import LedgerUploadForm
from .importing import LISTED_MAX, LedgerImportResult, ledger_import, more_text
from .uploads import (
    Pending,
    PendingChanged,
    PendingGone,
    pending_claim,
    pending_discard,
    pending_store,
)

SESSION_PENDING = "ledger_upload"
SESSION_DONE = "ledger_imported"

# What a result lists, in the order a person reads it.
SECTIONS = (
    ("projects_created", gettext_lazy("新建项目")),
    ("projects_updated", gettext_lazy("更新项目")),
    ("projects_unchanged", gettext_lazy("无变化的项目")),
    ("nodes_created", gettext_lazy("新建节点")),
    ("nodes_updated", gettext_lazy("更新节点")),
    ("nodes_unchanged", gettext_lazy("无变化的节点")),
    ("units_created", gettext_lazy("新建责任单位")),
    ("enterprises_created", gettext_lazy("新建企业")),
    ("leaders_created", gettext_lazy("新建包保领导（暂无登录账号，可用 add_user 以同一姓名开通）")),
    ("nodes_missing", gettext_lazy("系统中有而台账中没有的节点（不会删除，请核对）")),
    ("warnings", gettext_lazy("警告")),
)

# What the office checks before it confirms: a unit the import would create may be a typo or
# another name of a unit it already has (the import matches units by exact name).
SECTION_HINTS = {
    "units_created": gettext_lazy(
        "这些单位名称在系统中不存在，导入时将新建。如是已有单位的别称或笔误，请先修改台账再上传。"
    ),
}

# Shown folded: what stays as it is; everything that changes or needs a look is unfolded.
FOLDED_SECTIONS = {"projects_unchanged", "nodes_unchanged"}


def _require_office(request) -> None:
    require(request.user, Action.PLAN, message=_("只有督查办可以导入台账。"))


def _cut(entries: list[str]) -> list[str]:
    """At most LISTED_MAX entries, then one saying how many more (the session stays small)."""
    if len(entries) <= LISTED_MAX:
        return entries
    return [*entries[:LISTED_MAX], more_text(len(entries) - LISTED_MAX)]


def _summary(result: LedgerImportResult) -> dict:
    """The result as plain lists (it goes into the session after an import)."""
    return {
        "counts": {
            "projects": [
                len(result.projects_created),
                len(result.projects_updated),
                len(result.projects_unchanged),
            ],
            "nodes": [
                len(result.nodes_created),
                len(result.nodes_updated),
                len(result.nodes_unchanged),
            ],
        },
        "sections": [
            {
                "label": str(label),
                "count": len(getattr(result, field)),
                "entries": _cut(list(getattr(result, field))),
                "open": field not in FOLDED_SECTIONS,
                "hint": str(SECTION_HINTS.get(field, "")),
            }
            for field, label in SECTIONS
            if getattr(result, field)
        ],
    }


def _errors(result: LedgerImportResult) -> list[str]:
    """Every error, by row: 第N行 列：原因."""
    return [str(error) for error in result.errors]


def _pending(request) -> Pending | None:
    return Pending.from_session(request.session.get(SESSION_PENDING))


def _forget(request, pending: Pending | None) -> None:
    pending_discard(pending)
    request.session.pop(SESSION_PENDING, None)


def ledger_upload(request):
    """Upload a ledger and read its dry run: what would be created, updated or left, or every
    error by row. Nothing is written until 确认导入."""
    _require_office(request)
    context = {"nav_active": "ledger", "done": request.session.pop(SESSION_DONE, None)}
    if request.method == "POST":
        form = LedgerUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            _forget(request, _pending(request))  # one waiting file per person
            pending = pending_store(upload, upload.ledger_kind)
            result = ledger_import(path_or_file=pending.path, actor=request.user, dry_run=True)
            if result.errors:
                pending_discard(pending)
                context |= {"form": form, "errors": _errors(result), "original": pending.original}
                return render(request, "ledger/upload.html", context)
            request.session[SESSION_PENDING] = pending.as_session()
            return redirect("ledger-upload")
        return render(request, "ledger/upload.html", context | {"form": form})

    pending = _pending(request)
    if pending is not None:
        if not pending.path.exists():
            _forget(request, pending)
            messages.error(request, _("上传的文件已不存在，请重新上传。"))
        else:
            result = ledger_import(path_or_file=pending.path, actor=request.user, dry_run=True)
            if result.errors:
                _forget(request, pending)
                context["errors"] = _errors(result)
                context["original"] = pending.original
            else:
                context["preview"] = _summary(result)
                context["pending"] = pending
    return render(request, "ledger/upload.html", context | {"form": LedgerUploadForm()})


@require_POST
def ledger_confirm(request):
    """Import the previewed file for real, once, if it is still exactly what was previewed."""
    _require_office(request)
    pending = _pending(request)
    request.session.pop(SESSION_PENDING, None)
    if pending is None:
        messages.error(request, _("没有待导入的文件，请重新上传。"))
        return redirect("ledger-upload")
    try:
        path = pending_claim(pending)
    except PendingGone:
        messages.error(request, _("上传的文件已不存在（可能已经导入或已取消），请重新上传。"))
        return redirect("ledger-upload")
    except PendingChanged:
        messages.error(request, _("文件在预览后被改动过，已拒绝导入，请重新上传。"))
        return redirect("ledger-upload")
    if (rows := ledger_row_count(path)) > BACKGROUND_ROWS:
        # Checked whole first, then written in batches by a task (ledger.batches), so the
        # import never holds the database's write lock for minutes; the task removes the file.
        async_task("ledger.tasks.ledger_import_batched", str(path), request.user.pk)
        messages.info(
            request,
            _(
                "台账共%(rows)s行，已转入后台分批导入：先整体校验，有错误则不导入；"
                "导入结果记入管理后台的任务记录。"
            )
            % {"rows": rows},
        )
        return redirect("ledger-upload")
    try:
        result = ledger_import(path_or_file=path, actor=request.user, dry_run=False)
    finally:
        path.unlink(missing_ok=True)
    if result.errors:
        # The database changed since the preview; the import wrote nothing.
        context = {
            "nav_active": "ledger",
            "form": LedgerUploadForm(),
            "errors": _errors(result),
            "original": pending.original,
        }
        return render(request, "ledger/upload.html", context)
    request.session[SESSION_DONE] = _summary(result) | {"original": pending.original}
    messages.success(request, _("台账导入完成。"))
    return redirect("ledger-upload")


@require_POST
def ledger_cancel(request):
    """Drop the waiting file without importing it."""
    _require_office(request)
    _forget(request, _pending(request))
    messages.success(request, _("已取消，本次未导入任何内容。"))
    return redirect("ledger-upload")


def ledger_export(request):
    """The ledger as .xlsx or .csv (?format=), in the import's columns, of the projects the
    project list shows with the same filters (its query string): importing the file back
    changes nothing. The office's, like the import: the ledger is what it keeps."""
    require(request.user, Action.PLAN, message=_("只有督查办可以导出台账。"))
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(_("导出格式应为 xlsx 或 csv。"))
    projects = ledger_projects(user=request.user, data=request.GET.dict())
    if projects is None:
        return HttpResponseBadRequest(_("筛选条件有误，请回到项目列表修改后再导出。"))
    return table_response(fmt, ledger_filename(), HEADER, ledger_rows(projects), "台账")
