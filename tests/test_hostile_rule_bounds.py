"""Rule points and windows are bounded: a card deducts 0–20 points, the window to explain a
yellow card is 1–30 working days, in the database and in the admin's form."""

import datetime as dt
from decimal import Decimal

import pytest

from scoring.models import RuleVersion
from tests.factories import UserFactory
from tests.test_admin import rule_post, url
from tests.test_constraints import assert_rejected

pytestmark = pytest.mark.django_db

LATER = dt.date(2099, 1, 1)


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("scoring_ruleversion_points_bounded", {"yellow_points": Decimal("20.01")}),
        ("scoring_ruleversion_points_bounded", {"red_points": Decimal("200")}),
        ("scoring_ruleversion_grace_bounded", {"grace_workdays": 31}),
    ],
)
def test_the_database_refuses_a_rule_out_of_bounds(rule, fields):
    assert_rejected(RuleVersion, rule, effective_from=LATER, **fields)


def test_the_database_takes_a_rule_at_its_bounds():
    # when
    RuleVersion.objects.create(
        effective_from=LATER,
        yellow_points=Decimal("20"),
        red_points=Decimal("0"),
        grace_workdays=30,
    )
    RuleVersion.objects.create(
        effective_from=LATER + dt.timedelta(days=1),
        yellow_points=Decimal("0"),
        red_points=Decimal("20"),
        grace_workdays=1,
    )
    # then
    assert RuleVersion.objects.filter(effective_from__gte=LATER).count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("yellow_points", "20.50", "确保该值小于或等于20。"),
        ("red_points", "-1", "确保该值大于或等于0。"),
        ("grace_workdays", "31", "确保该值小于或等于30。"),
        ("grace_workdays", "0", "确保该值大于或等于1。"),
    ],
)
def test_the_admin_form_refuses_a_rule_out_of_bounds(client, field, value, message):
    # given
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    before = list(RuleVersion.objects.values_list("pk", "yellow_points", "red_points"))
    # when
    page = client.post(url(RuleVersion, "add"), rule_post(LATER) | {field: value})
    # then
    assert page.status_code == 200
    assert page.context["adminform"].form.errors[field] == [message]
    assert list(RuleVersion.objects.values_list("pk", "yellow_points", "red_points")) == before
