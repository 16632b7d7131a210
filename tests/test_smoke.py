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


def test_the_project_list_shows_only_projects_in_scope(client):
    # given
    mine, other = UnitFactory(name="县自然资源局"), UnitFactory(name="县住建局")
    visible = NodeFactory(unit=mine).project
    hidden = NodeFactory(unit=other).project
    user = make_user("staff", mine)
    client.force_login(user)
    # when
    response = client.get(reverse("projects"))
    # then
    assert response.status_code == 200
    assert [p.code for p in response.context["projects"]] == [visible.code]
    assert hidden.code not in response.content.decode()


def test_a_leader_covering_a_locality_or_enterprise_sees_its_projects(client):
    # given
    from organization.models import Coverage
    from tests.factories import EnterpriseFactory, LocalityFactory, ProjectFactory, UserFactory

    town = LocalityFactory(name="上派镇")
    firm = EnterpriseFactory(name="瑞丰新材料有限公司")
    in_town = NodeFactory(project=ProjectFactory(locality=town), unit=UnitFactory(name="县经信局"))
    of_firm = NodeFactory(
        project=ProjectFactory(enterprise=firm), unit=UnitFactory(name="县财政局")
    )
    elsewhere = NodeFactory(unit=UnitFactory(name="县住建局"))
    town_leader, firm_leader = UserFactory(), UserFactory()
    Coverage.objects.create(leader=town_leader, target="locality", locality=town)
    Coverage.objects.create(leader=firm_leader, target="enterprise", enterprise=firm)
    # then
    from projects.models import Node, Project

    assert list(Node.objects.visible_to(town_leader)) == [in_town]
    assert list(Node.objects.visible_to(firm_leader)) == [of_firm]
    assert list(Project.objects.visible_to(town_leader)) == [in_town.project]
    assert elsewhere.project not in Project.objects.visible_to(firm_leader)
