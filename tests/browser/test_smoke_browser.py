"""The browser can sign in and land on the dashboard, at a desk and on a phone."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.factories import UnitFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sign_in_and_land_on_their_units_dashboard_a_tap_from_their_to_do_list(screen):
    # given
    user = make_user("staff", UnitFactory(name="县财政局"), username="czj")
    user.full_name = "王立新"
    user.set_password(PASSWORD)
    user.save()
    # when
    page = screen.login("czj")
    # then
    assert screen.path() == "/"
    assert page.locator(".todo-banner a").get_attribute("href") == "/todo/"
    assert page.locator(".who-name").inner_text() == "王立新"
    assert screen.no_sideways_scroll()
    screen.shot("dashboard")
