"""Checks on identifiers and dates the county uses."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the unified social credit code (统一社会信用代码).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_digit(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_digit(code[:17]) == code[17]


def validate_uscc(value: str) -> None:
    if not is_valid_uscc(value):
        raise ValidationError(
            _("统一社会信用代码“%(value)s”无效：应为18位且校验位正确。"),
            code="invalid_uscc",
            params={"value": value},
        )


# Plan dates are held to this century: a date far out (9999-12-31) is a typing error, and
# the day after it would not even exist.
PLAN_DATE_MIN = dt.date(2000, 1, 1)
PLAN_DATE_MAX = dt.date(2099, 12, 31)


def plan_date_error(value: dt.date) -> str | None:
    """Why a plan date is out of range, or None."""
    if PLAN_DATE_MIN <= value <= PLAN_DATE_MAX:
        return None
    return _("日期须在 %(min)s 至 %(max)s 之间。") % {
        "min": f"{PLAN_DATE_MIN:%Y-%m-%d}",
        "max": f"{PLAN_DATE_MAX:%Y-%m-%d}",
    }


def validate_plan_date(value: dt.date) -> None:
    message = plan_date_error(value)
    if message:
        raise ValidationError(message, code="plan_date_range")
