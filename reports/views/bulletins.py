"""Bulletins (通报): the list, a bulletin as a print-ready page and as a PDF, and the
office's generate and publish buttons.

Everyone reads the published bulletins; the office also sees the drafts (404 for anyone
else) and writes, which the services check again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import clock
from core.errors import Conflict
from core.pdf import pdf_response
from organization.permissions import Action, may, require

from ..forms.bulletins import BulletinGenerateForm
from ..selectors.bulletins import (
    bulletin_for_page,
    bulletin_list,
    figures_for_display,
    last_month,
)
from ..services import bulletin_generate, bulletin_publish

PAGE_SIZE = 50


def _list_page(request, *, form=None, status: int = 200):
    office = may(request.user, Action.SUPERVISE)
    page = Paginator(bulletin_list(user=request.user).defer("figures"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if office and form is None:
        start, _end = last_month(clock.today())
        form = BulletinGenerateForm(initial={"month": start})
    return render(
        request,
        "reports/bulletins/list.html",
        {"page": page, "office": office, "form": form, "nav_active": "bulletins"},
        status=status,
    )


@require_GET
def bulletin_list_page(request):
    """通报: the published bulletins, newest period first; for the office also the drafts and
    the form that generates one (last month by default)."""
    return _list_page(request)


def _document_context(request, bulletin, *, link_units: bool) -> dict:
    return {
        "bulletin": bulletin,
        "f": figures_for_display(bulletin.figures),
        "office": may(request.user, Action.SUPERVISE),
        "link_units": link_units,
        "nav_active": "bulletins",
    }


@require_GET
def bulletin_detail(request, bulletin_id: int):
    """One bulletin as a print-ready page (A4 portrait when printed), with its figures as
    they were when it was generated."""
    bulletin = bulletin_for_page(user=request.user, bulletin_id=bulletin_id)
    return render(
        request,
        "reports/bulletins/detail.html",
        _document_context(request, bulletin, link_units=True),
    )


@require_GET
def bulletin_pdf(request, bulletin_id: int):
    """The bulletin as a PDF (A4 portrait), drawn on the server."""
    bulletin = bulletin_for_page(user=request.user, bulletin_id=bulletin_id)
    filename = _("%(year)s年第%(serial)s期 %(title)s") % {
        "year": bulletin.year,
        "serial": bulletin.serial,
        "title": bulletin.title,
    }
    return pdf_response(
        request,
        "reports/bulletins/pdf.html",
        _document_context(request, bulletin, link_units=False),
        filename,
    )


@require_POST
def bulletin_generate_page(request):
    """Generate (or regenerate the draft of) a month's or a period's bulletin."""
    require(request.user, Action.SUPERVISE, message=_("只有督查办可以生成通报。"))
    form = BulletinGenerateForm(request.POST)
    if form.is_valid():
        try:
            bulletin = bulletin_generate(
                actor=request.user,
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("bulletins")
        else:
            messages.success(request, _("已生成通报草稿，请核对后发布。"))
            return redirect("bulletin-detail", bulletin.pk)
    return _list_page(request, form=form, status=400)


@require_POST
def bulletin_publish_page(request, bulletin_id: int):
    """Publish a draft: every user sees it from then on."""
    bulletin = bulletin_for_page(user=request.user, bulletin_id=bulletin_id)
    try:
        bulletin_publish(actor=request.user, bulletin=bulletin)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("通报已发布。"))
    return redirect("bulletin-detail", bulletin.pk)
