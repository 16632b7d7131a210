"""Versioned rules: a rule applies from its effective date until the next one."""

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, TypeVar


class Versioned(Protocol):
    effective_from: dt.date


V = TypeVar("V", bound=Versioned)


def in_force(versions: Sequence[V], day: dt.date) -> V:
    """The version in force on `day`: the latest whose effective date is not after it.

    Before the first version, the first applies, rather than no rule at all.
    """
    started = [v for v in versions if v.effective_from <= day]
    if not started:
        return min(versions, key=lambda v: v.effective_from)
    return max(started, key=lambda v: v.effective_from)
