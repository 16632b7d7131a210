"""Entry points for django-q2."""

from core import clock
from organization.selectors import system_user

from .models import Bulletin
from .selectors.bulletins import last_month
from .services import bulletin_generate


def bulletin_monthly() -> str:
    """The monthly schedule: last month's bulletin, generated as a draft under the system
    account for the office to review and publish. A month that already has its bulletin
    (a draft, perhaps regenerated or under review, or published) is left as it is, so a
    second run does nothing."""
    start, end = last_month(clock.today())
    existing = Bulletin.objects.filter(period_start=start, period_end=end).first()
    if existing is not None:
        return f"bulletin {existing.pk} for {start:%Y-%m} exists ({existing.status})"
    bulletin = bulletin_generate(actor=system_user(), period_start=start, period_end=end)
    return f"bulletin {bulletin.pk} for {start:%Y-%m} generated (draft)"
