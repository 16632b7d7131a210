"""The supervision office's change log: changes by person, object and date, office only."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from organization.models import Unit
from projects.models import Node, Project
from tests.factories import NodeFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
URL = "/office/audit/"


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def saved_by(obj, user, when, reason=""):
    """Save `obj` as `user` at `when`, the way a page's request records it."""
    with time_machine.travel(at(when), tick=False):
        obj._history_user = user
        obj._change_reason = reason
        obj.save()


@pytest.fixture
def world():
    unit = UnitFactory(name="县经信局")
    office = make_user("supervisor", username="office")
    clerk = make_user("staff", unit, username="clerk")
    with time_machine.travel(at("2026-11-01 09:00"), tick=False):
        node = NodeFactory(unit=unit, name="土地收储")
    node.name = "土地收储（一期）"
    saved_by(node, clerk, "2026-11-10 10:00", "改名")
    node.project.name = "飞西工业园"
    saved_by(node.project, office, "2026-11-12 15:30", "统一名称")
    return {"unit": unit, "office": office, "clerk": clerk, "node": node}


def rows(response):
    return [
        (
            r["history_date"].astimezone(SH).strftime("%m-%d %H:%M"),
            str(r["user"] or ""),
            str(r["action"]),
            r["model"],
            r["history_change_reason"] or "",
        )
        for r in response.context["rows"]
    ]


def test_the_office_sees_every_change_newest_first(client, world):
    # given
    client.force_login(world["office"])
    # when
    response = client.get(URL, {"date_from": "2026-11-10", "date_to": "2026-11-12"})
    # then
    assert response.status_code == 200
    assert rows(response) == [
        ("11-12 15:30", str(world["office"]), "修改", "projects.project", "统一名称"),
        ("11-10 10:00", str(world["clerk"]), "修改", "projects.node", "改名"),
    ]
    body = response.content.decode()
    assert "2026-11-12 15:30" in body and "统一名称" in body and 'href="/office/audit/"' in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"user": "clerk"}, [("11-10 10:00", "projects.node")]),
        ({"user": "office"}, [("11-12 15:30", "projects.project")]),
        (
            {"model": "projects.node"},
            [("11-10 10:00", "projects.node"), ("11-01 09:00", "projects.node")],
        ),
        (
            {"date_from": "2026-11-11", "date_to": "2026-11-12"},
            [("11-12 15:30", "projects.project")],
        ),
        ({"date_from": "2026-11-10", "date_to": "2026-11-10"}, [("11-10 10:00", "projects.node")]),
    ],
)
def test_each_filter_narrows_the_changes_exactly(client, world, query, expected):
    # given
    client.force_login(world["office"])
    if "user" in query:
        query = {"user": world[query["user"]].pk}
    # when
    response = client.get(URL, query)
    # then
    assert [(r[0], r[3]) for r in rows(response)] == expected


def test_a_date_range_backwards_is_refused_with_its_reason(client, world):
    client.force_login(world["office"])
    response = client.get(URL, {"date_from": "2026-11-12", "date_to": "2026-11-01"})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "截止日期不能早于起始日期。" in response.content.decode()


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_nobody_but_the_office_reads_the_change_log(client, world, role):
    # given
    user = make_user(role, world["unit"], username=f"u_{role}")
    client.force_login(user)
    # when
    response = client.get(URL)
    # then
    assert response.status_code == 403
    assert "变更记录" not in client.get(reverse("projects")).content.decode().split("<main>")[0]


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(URL)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={URL}")


def test_the_query_count_does_not_grow_with_the_rows(client, world, django_assert_num_queries):
    # given: 60 more changes, by two people, over two pages
    client.force_login(world["office"])
    for i in range(30):
        u = Unit.objects.get(pk=world["unit"].pk)
        u.name = f"县经信局{i}"
        saved_by(u, world["office"] if i % 2 else world["clerk"], "2026-11-20 09:00")
        NodeFactory(unit=world["unit"])
    client.get(URL)  # warm the session
    few = _queries(client, {"model": "projects.project", "date_from": "2026-11-12"})
    # when / then: as many queries for 50 rows as for 1 (count, page, its people)
    with django_assert_num_queries(few):
        response = client.get(URL, {"page": 2})
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count > 100


def _queries(client, query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(URL, query)
    return len(ctx.captured_queries)


def test_history_counts_are_the_sum_over_the_tracked_models(client, world):
    client.force_login(world["office"])
    total = Node.history.count() + Project.history.count() + Unit.history.count()
    response = client.get(URL, {})
    assert response.context["page"].paginator.count >= total
