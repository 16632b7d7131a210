"""Writes of the reports: generating a bulletin (通报) and publishing it."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.i18n import in_record_language
from organization.models import User
from organization.permissions import DENIED, Action, is_system_account, may, require
from projects.validators import plan_date_error

from .choices import BulletinStatus
from .models import Bulletin
from .selectors.bulletins import bulletin_figures

PERIOD_DAYS_MAX = 366  # a year at most: a bulletin is a month's, a quarter's or a year's


def bulletin_title(period_start: dt.date, period_end: dt.date) -> str:
    """2026年11月节点工作法督办通报 for a calendar month; else the period's first and last day."""
    next_day = period_end + dt.timedelta(days=1)
    whole_month = (
        period_start.day == 1
        and next_day.day == 1
        and (period_start.year, period_start.month) == (period_end.year, period_end.month)
    )
    if whole_month:
        period = _("%(y)s年%(m)s月") % {"y": period_start.year, "m": period_start.month}
    else:
        period = _("%(y1)s年%(m1)s月%(d1)s日至%(y2)s年%(m2)s月%(d2)s日") % {
            "y1": period_start.year,
            "m1": period_start.month,
            "d1": period_start.day,
            "y2": period_end.year,
            "m2": period_end.month,
            "d2": period_end.day,
        }
    return _("%(period)s节点工作法督办通报") % {"period": period}


def _period_errors(period_start, period_end) -> dict:
    errors: dict[str, list[str]] = {}
    for field, value in (("period_start", period_start), ("period_end", period_end)):
        if value is None:
            errors[field] = [_("请填写日期。")]
        elif out_of_range := plan_date_error(value):
            errors[field] = [str(out_of_range)]
    if errors:
        return errors
    if period_end < period_start:
        errors["period_end"] = [_("截止日期不能早于起始日期。")]
    elif period_end >= clock.today():
        errors["period_end"] = [_("通报时段须已结束：截止日期须早于今天。")]
    elif (period_end - period_start).days + 1 > PERIOD_DAYS_MAX:
        errors["period_end"] = [_("通报时段最长一年。")]
    return errors


@in_record_language
@transaction.atomic
def bulletin_generate(*, actor: User, period_start: dt.date, period_end: dt.date) -> Bulletin:
    """Work out a period's figures and keep them in its bulletin, as a draft: a new one,
    numbered next in its year, or the period's draft with its figures replaced. The
    supervision office or the system account (the monthly schedule) generates; a published
    bulletin is never changed."""
    if not (may(actor, Action.SUPERVISE) or is_system_account(actor)):
        raise PermissionDenied(str(DENIED[Action.SUPERVISE]))
    if errors := _period_errors(period_start, period_end):
        raise ValidationError(errors)
    bulletin = (
        Bulletin.objects.select_for_update()
        .filter(period_start=period_start, period_end=period_end)
        .first()
    )
    if bulletin is not None and bulletin.is_published:
        raise Conflict(_("该时段的通报已发布，不能重新生成。"), "bulletin_published")
    as_of = clock.now()
    figures = bulletin_figures(period_start=period_start, period_end=period_end, as_of=as_of)
    title = bulletin_title(period_start, period_end)
    if bulletin is not None:
        bulletin.figures, bulletin.title = figures, title
        bulletin.generated_at, bulletin.generated_by = as_of, actor
        bulletin.full_clean()
        audited_save(bulletin, actor=actor, reason=_("重新生成"))
        return bulletin
    year = period_start.year
    last = Bulletin.objects.filter(year=year).aggregate(last=Max("serial"))["last"] or 0
    bulletin = Bulletin(
        period_start=period_start,
        period_end=period_end,
        year=year,
        serial=last + 1,
        title=title,
        figures=figures,
        generated_at=as_of,
        generated_by=actor,
    )
    bulletin.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            audited_save(bulletin, actor=actor, reason=_("生成"))
    except IntegrityError:
        # Another generation took the same period or number meanwhile.
        raise Conflict(_("另一份通报正在生成，请稍后重试。"), "bulletin_busy") from None
    return bulletin


@in_record_language
@transaction.atomic
def bulletin_publish(*, actor: User, bulletin: Bulletin) -> Bulletin:
    """Publish a draft bulletin to every user, once; its figures stay as generated."""
    require(actor, Action.SUPERVISE, message=_("只有督查办可以发布通报。"))
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.is_published:
        raise Conflict(_("该通报已发布。"), "bulletin_published")
    bulletin.status = BulletinStatus.PUBLISHED
    bulletin.published_at = clock.now()
    bulletin.published_by = actor
    audited_save(bulletin, actor=actor, reason=_("发布"))
    return bulletin
