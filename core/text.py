"""Free text a person writes (a reason, a note, a comment): trimmed, required or not, bounded."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TEXT_MAX = 2000


def text_clean(
    value: str | None,
    *,
    field: str,
    label: str,
    required: bool = True,
    max_length: int = TEXT_MAX,
    required_message: str | None = None,
) -> str:
    """The text without surrounding blanks; a ValidationError on `field` when it is missing or too long."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(
            {field: [required_message or _("请填写%(label)s。") % {"label": label}]}
        )
    if len(text) > max_length:
        raise ValidationError(
            {field: [_("%(label)s不能超过%(max)s字。") % {"label": label, "max": max_length}]}
        )
    return text
