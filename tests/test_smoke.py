import pytest
from django.urls import reverse

from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db


def test_every_page_requires_login(client):
    # when
    response = client.get(reverse("home"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_lists_only_projects_in_scope(client):
    # given
    mine, other = UnitFactory(name="县自然资源局"), UnitFactory(name="县住建局")
    visible = NodeFactory(unit=mine).project
    hidden = NodeFactory(unit=other).project
    user = make_user("staff", mine)
    client.force_login(user)
    # when
    response = client.get(reverse("home"))
    # then
    assert response.status_code == 200
    assert [p.code for p in response.context["projects"]] == [visible.code]
    assert hidden.code not in response.content.decode()
