"""Leaders: the approval inbox and decisions, and what they cover (包保)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import clock
from core.errors import Conflict
from core.templatetags.core_tags import cn_date, cn_datetime
from organization.selectors import user_scope

from ..choices import RecommitmentStatus
from ..forms.leader import DecisionForm
from ..selectors import (
    INBOX_EVENTS,
    coverage_overview,
    recommitment_decided_recent,
    recommitment_inbox,
    recommitments_decidable,
    unit_cards_in_year,
)
from ..services import recommitment_decide


def _leaders_only(user) -> None:
    """The inbox and the coverage page are for leaders in charge and principal leaders."""
    if not user_scope(user=user).is_leader:
        raise PermissionDenied(_("只有分管领导或主要领导可以打开此页面。"))


def _inbox_url(pk: int | None = None) -> str:
    return reverse("approvals") + (f"#rec-{pk}" if pk else "")


def approvals(request):
    """The approval inbox: pending recommitments the leader may decide, oldest first, then
    the latest decisions."""
    _leaders_only(request.user)
    return _inbox(request)


def _inbox(request, *, failed_pk: int | None = None, form: DecisionForm | None = None):
    user = request.user
    today = clock.today()
    pending = list(recommitment_inbox(user=user))
    cards = unit_cards_in_year(
        user=user, unit_ids={rec.node.unit_id for rec in pending}, year=today.year
    )
    for rec in pending:
        events = rec.node.recent_events
        rec.events, rec.more_events = events[:INBOX_EVENTS], len(events) > INBOX_EVENTS
        rec.unit_cards = cards.get(rec.node.unit_id, {})
        rec.is_own = rec.submitted_by_id == user.pk
        rec.sheet_open = rec.pk == failed_pk
        rec.reject_form = (
            form
            if rec.pk == failed_pk
            else DecisionForm(initial={"decision": DecisionForm.REJECT}, auto_id=f"r{rec.pk}_%s")
        )
    return render(
        request,
        "leader/approvals.html",
        {
            "pending": pending,
            "decided": list(recommitment_decided_recent(user=user)),
            "year": today.year,
            "nav_active": "approvals",
        },
    )


def _already_decided(rec, user) -> str:
    """What happened meanwhile, said plainly: who decided, when and how; or that it lapsed."""
    if rec.status == RecommitmentStatus.LAPSED or rec.decided_by_id is None:
        return _("该申请已失效，您的审批未提交，未作任何更改。")
    values = {"when": cn_datetime(rec.decided_at), "status": rec.get_status_display()}
    if rec.decided_by_id == user.pk:
        return _("您已于%(when)s审批该申请（%(status)s），无需再次提交。") % values
    values["who"] = rec.decided_by.display_name
    return _("%(who)s已于%(when)s审批该申请（%(status)s），您的审批未提交，未作任何更改。") % values


@require_POST
def approval_decide(request, pk: int):
    """同意 or 驳回 one recommitment, through recommitment_decide."""
    _leaders_only(request.user)
    rec = get_object_or_404(
        recommitments_decidable(user=request.user).select_related(
            "node", "submitted_by", "decided_by"
        ),
        pk=pk,
    )
    # Nobody decides a recommitment they submitted (domain rule 2): the inbox offers no
    # buttons on one's own request, and the service refuses a hand-made post (403).
    form = DecisionForm(request.POST, auto_id=f"r{rec.pk}_%s")
    if not form.is_valid():
        return _inbox(request, failed_pk=rec.pk, form=form)
    try:
        recommitment_decide(
            recommitment=rec,
            actor=request.user,
            approve=form.approve,
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else []:
            form.add_error(field if field in form.fields else None, errors)
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc.messages)
        return _inbox(request, failed_pk=rec.pk, form=form)
    except Conflict as exc:
        if exc.code == "already_decided":
            rec.refresh_from_db()
            messages.warning(request, _already_decided(rec, request.user))
        else:
            messages.error(request, exc.message)
        return redirect(_inbox_url(rec.pk))
    if form.approve:
        done = _("已同意：“%(node)s”承诺于%(date)s前完成。") % {
            "node": rec.node.name,
            "date": cn_date(rec.new_due_date),
        }
    else:
        done = _("已驳回：“%(node)s”，已通知%(who)s。") % {
            "node": rec.node.name,
            "who": rec.submitted_by.display_name,
        }
    messages.success(request, done)
    return redirect(_inbox_url())


def coverage(request):
    """我的包保: the localities, enterprises and projects the leader covers, and the projects
    they lead, each with its nodes' lights."""
    _leaders_only(request.user)
    return render(
        request,
        "leader/coverage.html",
        {"overview": coverage_overview(user=request.user), "nav_active": "coverage"},
    )
