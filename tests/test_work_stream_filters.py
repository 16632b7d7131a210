"""Every list filters by work stream (专项): the project list, the priority list, the card
lists, and the API's projects, nodes, cards and supervision items."""

import pytest
from django.urls import reverse

from organization.tokens import api_token_create
from projects.models import Project, WorkStream
from supervision.models import Card
from tests.factories import NodeFactory, ProjectFactory
from tests.test_api_support import api_get
from tests.test_pages_office import World, frozen, listed  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    """The office pages' world, with FX-002 (紫蓬镇) moved to 招商引资 and a project of
    重点项目建设 without cards."""
    world = World()
    world.invest = WorkStream.objects.create(code="investment", name="招商引资", seq=3)
    world.key = WorkStream.objects.create(code="key-projects", name="重点项目建设", seq=2)
    Project.objects.filter(code="FX-002").update(work_stream=world.invest)
    key = ProjectFactory(
        code="ZD-001", name="重点项目", locality=world.taohua, work_stream=world.key
    )
    NodeFactory(project=key, seq=1, unit=world.land)
    return world


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"work_stream": "investment"}, ["zipeng"]),
        ({"work_stream": "land"}, ["park", "taohua"]),
        ({"work_stream": "key-projects"}, []),
        ({"work_stream": "land", "status": ""}, ["closed", "park", "taohua"]),
        ({"work_stream": "land", "unit": "县住建局"}, []),
    ],
)
def test_the_priority_list_filters_by_stream_and_the_api_agrees(client, w, query, expected):
    # given
    client.force_login(w.office)
    token = api_token_create(user=w.office)
    want = [w.items[key].pk for key in expected]
    # when
    page = client.get(reverse("items"), query)
    api = api_get(client, "supervision-items/", token, **{"status": "open", **query})
    if query.get("status") == "":
        api = api_get(client, "supervision-items/", token, work_stream=query["work_stream"])
    # then
    assert page.status_code == api.status_code == 200
    assert listed(page) == want
    assert [row["id"] for row in api.json()["results"]] == want


def test_the_card_lists_filter_by_stream_and_the_api_agrees(client, w):
    # given
    client.force_login(w.office)
    token = api_token_create(user=w.office)
    want = [Card.objects.get(node=w.items["zipeng"].node, kind="yellow").pk]
    # when
    page = client.get(reverse("cards"), {"kind": "yellow", "work_stream": "investment"})
    api = api_get(client, "cards/", token, kind="yellow", work_stream="investment")
    # then
    assert listed(page) == want
    assert [row["id"] for row in api.json()["results"]] == want


def test_an_unknown_stream_is_a_filter_error_on_the_pages_and_a_400_in_the_api(client, w):
    # given
    client.force_login(w.office)
    token = api_token_create(user=w.office)
    # when
    page = client.get(reverse("items"), {"work_stream": "nope"})
    cards = client.get(reverse("cards"), {"work_stream": "nope"})
    api = api_get(client, "cards/", token, work_stream="nope")
    # then
    assert listed(page) == listed(cards) == []
    assert "专项：" in page.content.decode()
    assert api.status_code == 400
    assert "work_stream" in api.json()["errors"]


def test_the_filter_bars_offer_the_streams_by_name(client, w):
    # given
    client.force_login(w.office)
    # when
    bodies = [client.get(reverse(name)).content.decode() for name in ("items", "cards", "projects")]
    # then
    for body in bodies:
        select = body[body.index('name="work_stream"') :]
        select = select[: select.index("</select>")]
        assert select.index('value="land"') < select.index('value="key-projects"')
        assert select.index('value="key-projects"') < select.index('value="investment"')
        assert ">招商引资</option>" in select and ">园区转型升级</option>" in select


@pytest.mark.parametrize(
    ("stream", "codes"),
    [
        ("land", ["FX-001", "FX-003", "FX-004"]),
        ("investment", ["FX-002"]),
        ("key-projects", ["ZD-001"]),
    ],
)
def test_the_project_list_and_the_api_filter_projects_and_nodes_by_stream(client, w, stream, codes):
    # given
    client.force_login(w.office)
    token = api_token_create(user=w.office)
    # when
    page = client.get(reverse("projects"), {"work_stream": stream}).content.decode()
    projects = api_get(client, "projects/", token, work_stream=stream).json()["results"]
    nodes = api_get(client, "nodes/", token, work_stream=stream).json()["results"]
    # then
    shown = [
        code
        for code in ("FX-001", "FX-002", "FX-003", "FX-004", "ZD-001")
        if f"<b>{code}</b>" in page
    ]
    assert shown == codes
    assert [p["code"] for p in projects] == codes
    assert sorted({n["project"] for n in nodes}) == codes


def test_an_unknown_stream_lists_no_projects_or_nodes_in_the_api(client, w):
    token = api_token_create(user=w.office)
    assert api_get(client, "projects/", token, work_stream="nope").json()["count"] == 0
    assert api_get(client, "nodes/", token, work_stream="nope").json()["count"] == 0
