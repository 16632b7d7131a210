"""The priority supervision list: inspection records, supervised deadlines, closing an item."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.audit import audited_save
from core.errors import Conflict
from core.files import uploads_clean
from core.formats import date_cn
from core.i18n import in_record_language
from core.text import text_clean
from organization.models import User
from organization.permissions import Action, require
from projects.choices import NodeEventKind
from projects.models import Node
from projects.services import node_event_record
from projects.validators import PLAN_DATE_MAX, plan_date_error

from ..choices import InspectionMode, ItemStatus
from ..models import InspectionAttachment, InspectionRecord, SupervisionItem


def _require_supervisor(actor: User) -> None:
    require(actor, Action.SUPERVISE, message=_("只有督查办可以办理重点督办事项。"))


def _open_item(item: SupervisionItem) -> SupervisionItem:
    """The open item under a row lock, taken after its node's.

    The sweep, revocations and completions lock in that order too: none of them
    overwrites what another wrote to the item meanwhile.
    """
    node_id = SupervisionItem.objects.filter(pk=item.pk).values_list("node_id", flat=True).get()
    Node.objects.select_for_update(of=("self",)).get(pk=node_id)
    item = (
        SupervisionItem.objects.select_for_update(of=("self",))
        .select_related("node")
        .get(pk=item.pk)
    )
    if item.status != ItemStatus.OPEN:
        raise Conflict(_("该督办事项已销号。"), "item_closed")
    return item


@in_record_language
@transaction.atomic
def supervision_item_add_inspection(
    *,
    item: SupervisionItem,
    actor: User,
    mode: str,
    inspected_on: dt.date,
    text: str,
    files=(),
) -> InspectionRecord:
    """Record what the supervision office did about an item, online or on site, with files
    (photos, PDF, Office documents: each checked by size and content, or nothing is saved)."""
    _require_supervisor(actor)
    item = _open_item(item)
    errors = {}
    try:
        files = uploads_clean(files, field="files")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if mode not in InspectionMode.values:
        errors["mode"] = [_("请选择督查方式（线上或线下）。")]
    try:
        text = text_clean(text, field="text", label=_("督查情况"), max_length=5000)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if inspected_on is None or inspected_on > clock.today():
        errors["inspected_on"] = [_("督查日期不能晚于今天。")]
    elif out_of_range := plan_date_error(inspected_on):
        errors["inspected_on"] = [out_of_range]
    if errors:
        raise ValidationError(errors)
    record = InspectionRecord(
        item=item, mode=mode, inspected_on=inspected_on, text=text, author=actor
    )
    record.full_clean()
    record.save()
    for f in files:
        InspectionAttachment.objects.create(record=record, file=f, name=f.name[:200])
    node_event_record(
        node=item.node,
        kind=NodeEventKind.INSPECTION,
        actor=actor,
        at=clock.now(),
        message=_("%(mode)s督查：%(text)s")
        % {"mode": record.get_mode_display(), "text": text[:200]},
        item=item.pk,
        record=record.pk,
    )
    return record


@in_record_language
@transaction.atomic
def supervision_item_set_deadline(
    *, item: SupervisionItem, actor: User, deadline: dt.date | None
) -> SupervisionItem:
    """Set (or clear) the deadline the supervision office holds the unit to: today or later."""
    _require_supervisor(actor)
    if deadline is not None and deadline < clock.today():
        raise ValidationError({"supervised_deadline": [_("督办期限不能早于今天。")]})
    if deadline is not None and deadline > PLAN_DATE_MAX:
        raise ValidationError(
            {"supervised_deadline": [_("督办期限不能晚于 %(max)s。") % {"max": PLAN_DATE_MAX}]}
        )
    item = _open_item(item)
    if item.supervised_deadline == deadline:
        return item
    item.supervised_deadline = deadline
    audited_save(item, actor=actor, reason=_("设置督办期限"))
    # On the node's timeline, so the unit sees the date it is held to on its node page.
    today = clock.today()
    node_event_record(
        node=item.node,
        kind=NodeEventKind.ITEM_DEADLINE,
        actor=actor,
        at=clock.now(),
        message=_("督办期限：%(date)s前办结") % {"date": date_cn(deadline, today=today)}
        if deadline
        else _("督办期限已取消"),
        item=item.pk,
        deadline=deadline.isoformat() if deadline else None,
    )
    return item


@in_record_language
@transaction.atomic
def supervision_item_close(*, item: SupervisionItem, actor: User, note: str) -> SupervisionItem:
    """Close (销号) an item with a note."""
    _require_supervisor(actor)
    note = text_clean(note, field="note", label=_("销号说明"))
    item = _open_item(item)
    now = clock.now()
    item.status = ItemStatus.CLOSED
    item.closed_at = now
    item.closed_by = actor
    item.close_note = note
    audited_save(item, actor=actor, reason=_("销号"))
    node_event_record(
        node=item.node,
        kind=NodeEventKind.ITEM_CLOSED,
        actor=actor,
        at=now,
        message=_("督办销号：%(note)s") % {"note": note},
        item=item.pk,
    )
    return item
