"""Bulletins (通报): the figures of a period, frozen when generated; numbering; generating and
publishing and their refusals; the monthly schedule; the pages, the PDF and the API."""

import datetime as dt
import io
import re
import zlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django_q.models import Schedule

from core.errors import Conflict
from organization.models import Unit, User
from organization.selectors import system_user
from organization.tokens import api_token_create
from projects.models import Node, Project
from reports.management.commands.setup_report_schedules import MONTHLY_BULLETIN_NAME
from reports.models import Bulletin
from reports.selectors.bulletins import bulletin_figures, last_month
from reports.services import bulletin_generate, bulletin_publish, bulletin_title
from reports.tasks import bulletin_monthly
from scoring.choices import EntryKind
from scoring.services import points_entry_record
from supervision.choices import CardKind, Light
from supervision.models import Card, SupervisionItem
from supervision.selectors import nodes_with_light
from supervision.services import card_revoke, node_complete, supervision_item_close, sweep_run
from tests.factories import LocalityFactory, NodeFactory, ProjectFactory, UnitFactory, make_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOV_START, NOV_END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def at(text: str) -> dt.datetime:
    """An instant in the county's local time, from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


# The monthly run's instant: the 1st of December, 08:00 county time.
GENERATED = at("2026-12-01 08:00")


@dataclass
class World:
    """October and November 2026 as they happened, through the services (default rule:
    yellow 1 point, red 2, base 100).

    node (unit)        due     what happened
    a_old  (land)      10-20   yellow 10-21, red 10-27 (item opened), item closed 11-06
    a_red  (land)      11-02   yellow 11-03, red 11-07 (Saturday): item open at month end
    b_rev  (housing)   11-10   yellow 11-11, revoked on 11-12 (reversal +1 on 11-12)
    b_red  (housing)   11-20   yellow 11-21, red 11-26: item open at month end
    t_edge (taohua)    10-31   yellow 11-01 00:00 (the month's first instant); done 11-02
    t_next (taohua)    11-30   yellow 12-01 00:00: December's, not November's
    p_ok   (park)      12-20   nothing
    """

    land: Unit
    housing: Unit
    taohua: Unit
    park: Unit
    office: User
    staff: User
    nodes: dict[str, Node]

    def node(self, key: str) -> Node:
        return self.nodes[key]


def world_build(extra_nodes: int = 0) -> World:
    """The world; `extra_nodes` more red-carded nodes of the land department in November
    (with open items), for the query pins."""
    with time_machine.travel(at("2026-10-01 09:00"), tick=False) as traveller:
        land = UnitFactory(name="县自然资源局")
        housing = UnitFactory(name="县住建局")
        taohua = LocalityFactory(name="桃花镇")
        park = UnitFactory(name="肥西经开区", kind="park")
        office = make_user("supervisor", username="office")
        staff = make_user("staff", taohua, username="staff_taohua")
        project = ProjectFactory(code="FX-101", name="某纺织厂低效用地收储项目", locality=taohua)
        other = ProjectFactory(code="FX-102", name="某机械厂嫁接盘活项目", locality=park)
        rows = [
            ("a_old", project, land, "签订收储协议", dt.date(2026, 10, 20)),
            ("a_red", project, land, "完成资产评估", dt.date(2026, 11, 2)),
            ("b_rev", other, housing, "完成厂房鉴定", dt.date(2026, 11, 10)),
            ("b_red", other, housing, "签订合作协议", dt.date(2026, 11, 20)),
            ("t_edge", project, taohua, "完成企业清退", dt.date(2026, 10, 31)),
            ("t_next", project, taohua, "完成场地移交", dt.date(2026, 11, 30)),
            ("p_ok", other, park, "完成设备更新", dt.date(2026, 12, 20)),
        ]
        rows += [
            (f"x{i}", other, land, f"追加节点{i}", dt.date(2026, 11, 2)) for i in range(extra_nodes)
        ]
        nodes = {
            key: NodeFactory(project=proj, seq=seq, name=name, unit=unit, due_date=due)
            for seq, (key, proj, unit, name, due) in enumerate(rows, start=1)
        }
        for when in ("2026-10-21 01:00", "2026-10-27 01:00", "2026-11-01 01:00"):
            traveller.move_to(at(when))
            sweep_run()
        traveller.move_to(at("2026-11-02 10:00"))
        node_complete(node=nodes["t_edge"], actor=staff, note="已清退。")
        for when in ("2026-11-03 01:00", "2026-11-07 01:00"):
            traveller.move_to(at(when))
            sweep_run()
        traveller.move_to(at("2026-11-06 15:00"))
        supervision_item_close(
            item=SupervisionItem.objects.get(node=nodes["a_old"]), actor=office, note="已整改。"
        )
        for when in ("2026-11-11 01:00",):
            traveller.move_to(at(when))
            sweep_run()
        traveller.move_to(at("2026-11-12 10:00"))
        card_revoke(
            card=Card.objects.get(node=nodes["b_rev"], kind=CardKind.YELLOW),
            actor=office,
            reason="计划日期录入错误。",
        )
        for when in ("2026-11-21 01:00", "2026-11-26 01:00", "2026-12-01 01:00"):
            traveller.move_to(at(when))
            sweep_run()
    return World(
        land=land,
        housing=housing,
        taohua=taohua,
        park=park,
        office=office,
        staff=staff,
        nodes={key: Node.objects.get(pk=node.pk) for key, node in nodes.items()},
    )


@pytest.fixture
def w() -> World:
    return world_build()


@pytest.fixture
def generated(w):
    """November's bulletin, generated by the office at GENERATED."""
    with time_machine.travel(GENERATED, tick=False):
        return bulletin_generate(actor=w.office, period_start=NOV_START, period_end=NOV_END)


def lagging_rows(as_of: dt.datetime) -> list[dict]:
    """What the bulletin should list as lagging: exactly what nodes_with_light says."""
    nodes = (
        nodes_with_light(
            Node.objects.filter(archived_at__isnull=True, project__archived_at__isnull=True),
            today=as_of.astimezone(SH).date(),
        )
        .filter(light=Light.LAGGING.value)
        .select_related("project", "unit")
        .order_by("project__code", "seq", "pk")
    )
    return [
        {
            "project": n.project.code,
            "project_name": n.project.name,
            "node": n.name,
            "unit": n.unit.name,
            "progress": n.progress,
            "due_date": n.effective_due_date.isoformat(),
        }
        for n in nodes
    ]


# -- the figures ---------------------------------------------------------------------------


def test_the_figures_of_november_are_exact(w, generated):
    # then
    f = generated.figures
    assert f["schema"] == 2
    assert f["period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert f["as_of"] == GENERATED.isoformat()
    assert f["cards"]["by_unit"] == [
        {"unit": "县住建局", "unit_kind": "department", "yellow": 2, "red": 1, "revoked": 1},
        {"unit": "县自然资源局", "unit_kind": "department", "yellow": 1, "red": 1, "revoked": 0},
        {"unit": "桃花镇", "unit_kind": "township", "yellow": 1, "red": 0, "revoked": 0},
    ]
    assert f["cards"]["total"] == {"yellow": 4, "red": 2, "revoked": 1}
    assert [
        (r["kind"], r["node"], r["unit"], r["carded_on"], r["revoked"], r["revoke_reason"])
        for r in f["cards"]["rows"]
    ] == [
        ("yellow", "完成企业清退", "桃花镇", "2026-11-01", False, ""),
        ("yellow", "完成资产评估", "县自然资源局", "2026-11-03", False, ""),
        ("red", "完成资产评估", "县自然资源局", "2026-11-07", False, ""),
        ("yellow", "完成厂房鉴定", "县住建局", "2026-11-11", True, "计划日期录入错误。"),
        ("yellow", "签订合作协议", "县住建局", "2026-11-21", False, ""),
        ("red", "签订合作协议", "县住建局", "2026-11-26", False, ""),
    ]
    assert f["cards"]["rows"][0] == {
        "kind": "yellow",
        "unit": "桃花镇",
        "project": "FX-101",
        "project_name": "某纺织厂低效用地收储项目",
        "node": "完成企业清退",
        "deadline": "2026-10-31",
        "carded_on": "2026-11-01",
        "revoked": False,
        "revoke_reason": "",
    }
    assert f["items"] == {
        "closed": [
            {
                "project": "FX-101",
                "project_name": "某纺织厂低效用地收储项目",
                "node": "签订收储协议",
                "unit": "县自然资源局",
                "opened_on": "2026-10-27",
                "closed_on": "2026-11-06",
                "days_open": 10,
            }
        ],
        "open": [
            {
                "project": "FX-101",
                "project_name": "某纺织厂低效用地收储项目",
                "node": "完成资产评估",
                "unit": "县自然资源局",
                "opened_on": "2026-11-07",
                "supervised_deadline": None,
                "days_open": 23,
            },
            {
                "project": "FX-102",
                "project_name": "某机械厂嫁接盘活项目",
                "node": "签订合作协议",
                "unit": "县住建局",
                "opened_on": "2026-11-26",
                "supervised_deadline": None,
                "days_open": 4,
            },
        ],
    }

    # land: yellow -1, red -2; housing: yellow -1, its reversal +1, yellow -1, red -2;
    # taohua: yellow -1 (t_next's card is December's); the park: nothing. October (the
    # previous period): land 97 (2nd), the others 100 (1st).
    def row(unit, group, deductions, reversals, score, rank, prev_score, prev_rank, move, cards):
        return {
            "unit_id": unit.pk,
            "unit": unit.name,
            "unit_kind": unit.kind,
            "group": group,
            "base": "100.00",
            "deductions": deductions,
            "reversals": reversals,
            "bonuses": "0.00",
            "adjustments": "0.00",
            "points": f"{float(score) - 100:.2f}",
            "score": score,
            "rank": rank,
            "previous_score": prev_score,
            "previous_rank": prev_rank,
            "movement": move,
            "movement_text": {0: "—", 1: "↑1", -1: "↓1"}[move],
            "cards": dict(zip(("yellow", "red", "revoked"), cards, strict=True)),
        }

    assert f["scores"] == [
        row(w.housing, "department", "-3.00", "1.00", "97.00", 1, "100.00", 1, 0, (1, 1, 1)),
        row(w.land, "department", "-3.00", "0.00", "97.00", 1, "97.00", 2, 1, (1, 1, 0)),
        row(w.park, "locality", "0.00", "0.00", "100.00", 1, "100.00", 1, 0, (0, 0, 0)),
        row(w.taohua, "locality", "-1.00", "0.00", "99.00", 2, "100.00", 1, -1, (1, 0, 0)),
    ]
    assert f["lagging"] == lagging_rows(GENERATED)


def test_the_lagging_nodes_are_those_nodes_with_light_calls_lagging(w, monkeypatch):
    """The bulletin takes its lagging nodes from supervision.selectors.nodes_with_light, with
    the node's project, unit, progress and the date it is held to."""
    # given: a light that calls the park's node lagging
    from django.db.models import Case, CharField, Value, When

    from reports.selectors import bulletins

    real = bulletins.nodes_with_light

    def with_lagging(queryset, *, today):
        return real(queryset, today=today).annotate(
            light=Case(
                When(pk=w.node("p_ok").pk, then=Value(Light.LAGGING.value)),
                default=Value(Light.ON_TRACK.value),
                output_field=CharField(),
            )
        )

    monkeypatch.setattr(bulletins, "nodes_with_light", with_lagging)
    # when
    figures = bulletin_figures(period_start=NOV_START, period_end=NOV_END, as_of=GENERATED)
    # then
    assert figures["lagging"] == [
        {
            "project": "FX-102",
            "project_name": "某机械厂嫁接盘活项目",
            "node": "完成设备更新",
            "unit": "肥西经开区",
            "progress": 0,
            "due_date": "2026-12-20",
        }
    ]


def test_a_node_of_an_archived_project_is_not_listed_as_lagging(w, monkeypatch):
    """An archived project is off the books: its nodes are in no bulletin's lagging list."""
    # given: a light that calls the park's node lagging, and its project archived
    from django.db.models import Case, CharField, Value, When

    from reports.selectors import bulletins

    real = bulletins.nodes_with_light

    def with_lagging(queryset, *, today):
        return real(queryset, today=today).annotate(
            light=Case(
                When(pk=w.node("p_ok").pk, then=Value(Light.LAGGING.value)),
                default=Value(Light.ON_TRACK.value),
                output_field=CharField(),
            )
        )

    monkeypatch.setattr(bulletins, "nodes_with_light", with_lagging)
    Project.objects.filter(pk=w.node("p_ok").project_id).update(archived_at=GENERATED)
    # when
    figures = bulletin_figures(period_start=NOV_START, period_end=NOV_END, as_of=GENERATED)
    # then
    assert figures["lagging"] == []


def ranking_on_the_rankings_page(start: dt.date, end: dt.date) -> list[dict]:
    """What /rankings/?start=&end= shows, row by row, in the bulletin's stored words."""
    client = Client()
    client.force_login(make_user("staff", Unit.objects.get(name="桃花镇")))
    response = client.get(reverse("rankings"), {"start": start, "end": end})
    assert response.status_code == 200
    money = "{:.2f}".format
    return [
        {
            "unit_id": r.row.unit.pk,
            "unit": r.row.unit.name,
            "unit_kind": r.row.kind,
            "group": r.row.group,
            "base": money(r.row.base),
            "deductions": money(r.row.deductions),
            "reversals": money(r.row.reversals),
            "bonuses": money(r.row.bonuses),
            "adjustments": money(r.row.adjustments),
            "points": money(r.row.points),
            "score": money(r.row.score),
            "rank": r.row.rank,
            "previous_score": None if r.row.previous_score is None else money(r.row.previous_score),
            "previous_rank": r.row.previous_rank,
            "movement": r.row.movement,
            "movement_text": r.row.movement_text,
            "cards": {"yellow": r.cards.yellow, "red": r.cards.red, "revoked": r.cards.revoked},
        }
        for group in response.context["groups"]
        for r in group["rows"]
    ]


def test_the_bulletins_ranking_is_the_rankings_page_for_its_period(w):
    """A bulletin ranks as the rankings page does for the same period: the same score,
    rank, deductions, bonuses, adjustments, card counts and movement, in the same order."""
    # given: the office's bonus and adjustments in November, and a unit new in November
    with time_machine.travel(at("2026-11-20 10:00"), tick=False):
        for unit, kind, points in [
            (w.park, EntryKind.BONUS, "2"),
            (w.taohua, EntryKind.ADJUSTMENT, "-0.5"),
            (w.land, EntryKind.ADJUSTMENT, "1.5"),
        ]:
            points_entry_record(
                actor=w.office,
                unit=unit,
                kind=kind,
                points=points,
                reason="专项督查表现。",
                occurred_on=dt.date(2026, 11, 18),
            )
        new_town = LocalityFactory(name="新安镇")
    # when
    with time_machine.travel(GENERATED, tick=False):
        bulletin = bulletin_generate(actor=w.office, period_start=NOV_START, period_end=NOV_END)
        page = ranking_on_the_rankings_page(NOV_START, NOV_END)
    # then
    assert bulletin.figures["scores"] == page
    assert [
        (s["unit"], s["score"], s["rank"], s["bonuses"], s["adjustments"], s["movement_text"])
        for s in bulletin.figures["scores"]
    ] == [
        ("县自然资源局", "98.50", 1, "0.00", "1.50", "↑1"),
        ("县住建局", "97.00", 2, "0.00", "0.00", "↓1"),
        ("肥西经开区", "102.00", 1, "2.00", "0.00", "—"),
        ("新安镇", "100.00", 2, "0.00", "0.00", "新"),
        ("桃花镇", "98.50", 3, "0.00", "-0.50", "↓2"),
    ]
    assert bulletin.figures["scores"][3]["unit_id"] == new_town.pk


def test_the_bulletins_ranking_of_october_is_the_rankings_page_for_october(w):
    """October: a_old's yellow (10-21) and red (10-27) are October's, nothing else."""
    # when
    with time_machine.travel(GENERATED, tick=False):
        figures = bulletin_figures(
            period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31), as_of=GENERATED
        )
        page = ranking_on_the_rankings_page(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    # then
    assert figures["scores"] == page
    assert [(s["unit"], s["points"], s["score"], s["rank"]) for s in figures["scores"]] == [
        ("县住建局", "0.00", "100.00", 1),
        ("县自然资源局", "-3.00", "97.00", 2),
        ("桃花镇", "0.00", "100.00", 1),
        ("肥西经开区", "0.00", "100.00", 1),
    ]


def test_the_figures_stay_as_generated_after_later_changes(w, generated):
    # given
    before = Bulletin.objects.get(pk=generated.pk).figures
    # when: December goes on: a red card revoked, an item closed
    with time_machine.travel(at("2026-12-02 10:00"), tick=False):
        card_revoke(
            card=Card.objects.get(node=w.node("a_red"), kind=CardKind.RED),
            actor=w.office,
            reason="节点计划调整。",
        )
        supervision_item_close(
            item=SupervisionItem.objects.get(node=w.node("b_red")), actor=w.office, note="已整改。"
        )
        live = bulletin_figures(
            period_start=NOV_START, period_end=NOV_END, as_of=at("2026-12-02 10:00")
        )
    # then: the bulletin keeps its figures; the live ones moved
    assert Bulletin.objects.get(pk=generated.pk).figures == before
    assert live["cards"]["total"] == {"yellow": 4, "red": 2, "revoked": 2}
    assert before["cards"]["total"] == {"yellow": 4, "red": 2, "revoked": 1}


def test_regenerating_a_draft_replaces_its_figures_and_keeps_its_number(w, generated):
    # given
    with time_machine.travel(at("2026-12-02 10:00"), tick=False):
        card_revoke(
            card=Card.objects.get(node=w.node("a_red"), kind=CardKind.RED),
            actor=w.office,
            reason="节点计划调整。",
        )
        # when
        again = bulletin_generate(actor=w.office, period_start=NOV_START, period_end=NOV_END)
    # then
    assert (again.pk, again.serial, again.year, again.status) == (generated.pk, 1, 2026, "draft")
    assert again.figures["cards"]["total"] == {"yellow": 4, "red": 2, "revoked": 2}
    assert again.generated_at == at("2026-12-02 10:00")
    assert Bulletin.objects.count() == 1
    assert [h.history_change_reason for h in again.history.order_by("history_id")] == [
        "生成",
        "重新生成",
    ]


# -- numbering and titles ------------------------------------------------------------------


def test_bulletins_are_numbered_within_the_year_their_period_starts_in(w):
    # given
    with time_machine.travel(at("2027-01-05 09:00"), tick=False):
        # when
        made = [
            bulletin_generate(actor=w.office, period_start=start, period_end=end)
            for start, end in [
                (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
                (NOV_START, NOV_END),
                (dt.date(2026, 11, 1), dt.date(2026, 11, 15)),
                (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
                (dt.date(2027, 1, 1), dt.date(2027, 1, 3)),
            ]
        ]
    # then
    assert [(b.year, b.serial, b.title) for b in made] == [
        (2026, 1, "2026年10月节点工作法督办通报"),
        (2026, 2, "2026年11月节点工作法督办通报"),
        (2026, 3, "2026年11月1日至2026年11月15日节点工作法督办通报"),
        (2026, 4, "2026年12月节点工作法督办通报"),
        (2027, 1, "2027年1月1日至2027年1月3日节点工作法督办通报"),
    ]


@pytest.mark.parametrize(
    ("start", "end", "title"),
    [
        ((2026, 2, 1), (2026, 2, 28), "2026年2月节点工作法督办通报"),
        ((2026, 2, 1), (2026, 2, 27), "2026年2月1日至2026年2月27日节点工作法督办通报"),
        ((2026, 1, 2), (2026, 1, 31), "2026年1月2日至2026年1月31日节点工作法督办通报"),
        ((2026, 1, 1), (2026, 2, 28), "2026年1月1日至2026年2月28日节点工作法督办通报"),
        ((2026, 12, 1), (2026, 12, 31), "2026年12月节点工作法督办通报"),
    ],
)
def test_titles(start, end, title):
    assert bulletin_title(dt.date(*start), dt.date(*end)) == title


@pytest.mark.parametrize(
    ("today", "month"),
    [
        ((2026, 12, 1), ((2026, 11, 1), (2026, 11, 30))),
        ((2027, 1, 31), ((2026, 12, 1), (2026, 12, 31))),
        ((2026, 3, 1), ((2026, 2, 1), (2026, 2, 28))),
        ((2028, 3, 15), ((2028, 2, 1), (2028, 2, 29))),
    ],
)
def test_last_month(today, month):
    assert last_month(dt.date(*today)) == (dt.date(*month[0]), dt.date(*month[1]))


# -- refusals ------------------------------------------------------------------------------


def snapshot() -> list[tuple]:
    return list(
        Bulletin.objects.order_by("pk").values_list(
            "pk", "status", "figures", "generated_at", "published_at", "serial"
        )
    ) + [("history", Bulletin.history.count())]


@pytest.mark.parametrize("role", ["staff", "leader", "principal", "admin"])
def test_only_the_office_or_the_system_generates(w, role):
    # given
    unit = UnitFactory(name="县发展改革委")
    if role == "admin":
        from tests.factories import UserFactory

        actor = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        actor = make_user(role, unit, username=f"who_{role}")
    before = snapshot()
    # when
    with time_machine.travel(GENERATED, tick=False), pytest.raises(PermissionDenied) as refused:
        bulletin_generate(actor=actor, period_start=NOV_START, period_end=NOV_END)
    # then
    assert str(refused.value) == "只有督查办可以执行该操作。"
    assert snapshot() == before


def test_the_system_account_generates(w):
    with time_machine.travel(GENERATED, tick=False):
        bulletin = bulletin_generate(
            actor=system_user(), period_start=NOV_START, period_end=NOV_END
        )
    assert (bulletin.generated_by.username, bulletin.status) == ("system", "draft")


@pytest.mark.parametrize(
    ("start", "end", "errors"),
    [
        ((2026, 11, 30), (2026, 11, 1), {"period_end": ["截止日期不能早于起始日期。"]}),
        ((2026, 12, 1), (2026, 12, 1), {"period_end": ["通报时段须已结束：截止日期须早于今天。"]}),
        ((2026, 11, 1), (2026, 12, 31), {"period_end": ["通报时段须已结束：截止日期须早于今天。"]}),
        ((2025, 1, 1), (2026, 11, 30), {"period_end": ["通报时段最长一年。"]}),
        (None, (2026, 11, 30), {"period_start": ["请填写日期。"]}),
        (
            (1999, 12, 1),
            (1999, 12, 31),
            {
                "period_start": ["日期须在 2000-01-01 至 2099-12-31 之间。"],
                "period_end": ["日期须在 2000-01-01 至 2099-12-31 之间。"],
            },
        ),
    ],
)
def test_a_period_that_cannot_have_a_bulletin_is_refused_with_nothing_changed(
    w, start, end, errors
):
    # given
    before = snapshot()
    # when
    with time_machine.travel(GENERATED, tick=False), pytest.raises(ValidationError) as refused:
        bulletin_generate(
            actor=w.office,
            period_start=start and dt.date(*start),
            period_end=end and dt.date(*end),
        )
    # then
    assert refused.value.message_dict == errors
    assert snapshot() == before


def test_publishing_makes_a_draft_public_once(w, generated):
    # when
    with time_machine.travel(at("2026-12-01 10:00"), tick=False):
        published = bulletin_publish(actor=w.office, bulletin=generated)
    # then
    assert (published.status, published.published_at, published.published_by) == (
        "published",
        at("2026-12-01 10:00"),
        w.office,
    )
    assert published.figures == generated.figures
    # when: again
    before = snapshot()
    with time_machine.travel(at("2026-12-01 11:00"), tick=False), pytest.raises(Conflict) as again:
        bulletin_publish(actor=w.office, bulletin=published)
    # then
    assert (again.value.message, again.value.code) == ("该通报已发布。", "bulletin_published")
    assert snapshot() == before


def test_a_published_bulletin_is_never_regenerated(w, generated):
    # given
    with time_machine.travel(at("2026-12-01 10:00"), tick=False):
        bulletin_publish(actor=w.office, bulletin=generated)
    before = snapshot()
    # when
    with (
        time_machine.travel(at("2026-12-03 10:00"), tick=False),
        pytest.raises(Conflict) as refused,
    ):
        bulletin_generate(actor=w.office, period_start=NOV_START, period_end=NOV_END)
    # then
    assert refused.value.message == "该时段的通报已发布，不能重新生成。"
    assert snapshot() == before


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_only_the_office_publishes(w, generated, role):
    # given
    actor = make_user(role, w.land, username=f"who_{role}")
    before = snapshot()
    # when
    with pytest.raises(PermissionDenied) as refused:
        bulletin_publish(actor=actor, bulletin=generated)
    # then
    assert str(refused.value) == "只有督查办可以发布通报。"
    assert snapshot() == before


def test_the_system_account_does_not_publish(w, generated):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        bulletin_publish(actor=system_user(), bulletin=generated)
    assert snapshot() == before


# -- the monthly schedule ------------------------------------------------------------------


def test_the_monthly_run_generates_last_months_draft_once(w):
    # when: the 1st of December, then again the same day and later that month
    with time_machine.travel(GENERATED, tick=False):
        first = bulletin_monthly()
    bulletin = Bulletin.objects.get()
    with time_machine.travel(at("2026-12-01 09:00"), tick=False):
        second = bulletin_monthly()
    with time_machine.travel(at("2026-12-15 08:00"), tick=False):
        third = bulletin_monthly()
    # then
    assert first == f"bulletin {bulletin.pk} for 2026-11 generated (draft)"
    assert second == third == f"bulletin {bulletin.pk} for 2026-11 exists (draft)"
    assert (bulletin.period_start, bulletin.period_end, bulletin.status) == (
        NOV_START,
        NOV_END,
        "draft",
    )
    assert bulletin.generated_by.username == "system"
    assert bulletin.generated_at == GENERATED
    assert Bulletin.objects.count() == 1
    assert bulletin.history.get().history_user.username == "system"


def test_the_monthly_run_leaves_a_published_bulletin_alone(w, generated):
    # given
    with time_machine.travel(at("2026-12-01 07:30"), tick=False):
        bulletin_publish(actor=w.office, bulletin=generated)
    before = snapshot()
    # when
    with time_machine.travel(GENERATED, tick=False):
        result = bulletin_monthly()
    # then
    assert result == f"bulletin {generated.pk} for 2026-11 exists (published)"
    assert snapshot() == before


def test_setup_report_schedules_is_idempotent_and_runs_on_the_first_at_8(w):
    # when
    out = io.StringIO()
    with time_machine.travel(at("2026-11-15 10:00"), tick=False):
        call_command("setup_report_schedules", stdout=out)
        call_command("setup_report_schedules", stdout=out)
    # then
    schedule = Schedule.objects.get(name=MONTHLY_BULLETIN_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "reports.tasks.bulletin_monthly",
        Schedule.MONTHLY,
        -1,
    )
    assert schedule.next_run == at("2026-12-01 08:00")
    assert out.getvalue().splitlines() == [
        "schedule nodetrack.bulletin_monthly: monthly, next 2026-12-01 08:00, created",
        "schedule nodetrack.bulletin_monthly: monthly, next 2026-12-01 08:00, up to date",
    ]


def test_the_monthly_schedule_stays_on_the_first_for_two_years(w):
    """django-q2 adds a month to the stored UTC instant: 08:00 county time is 00:00 UTC, so
    the UTC date is the county's and every run stays on the 1st (at 07:00 it would be the
    last day of the month in UTC, and the runs would slide to the 30th, then the 28th)."""
    # given
    with time_machine.travel(at("2026-11-15 10:00"), tick=False):
        call_command("setup_report_schedules", stdout=io.StringIO())
    schedule = Schedule.objects.get(name=MONTHLY_BULLETIN_NAME)
    # when
    runs, next_run = [], schedule.next_run
    for _ in range(25):
        runs.append(next_run.astimezone(SH))
        next_run = schedule.calculate_next_run(next_run)
    # then
    assert {(r.day, r.hour, r.minute) for r in runs} == {(1, 8, 0)}
    assert [(r.year, r.month) for r in runs][:3] == [(2026, 12), (2027, 1), (2027, 2)]
    assert (runs[-1].year, runs[-1].month) == (2028, 12)


def test_setup_report_schedules_puts_a_moved_schedule_back_on_the_first(w):
    # given: a schedule whose next run slid to the 30th
    Schedule.objects.create(
        name=MONTHLY_BULLETIN_NAME,
        func="reports.tasks.bulletin_monthly",
        schedule_type=Schedule.MONTHLY,
        repeats=-1,
        next_run=at("2026-11-30 07:00"),
    )
    # when
    with time_machine.travel(at("2026-11-15 10:00"), tick=False):
        call_command("setup_report_schedules", stdout=io.StringIO())
    # then
    assert Schedule.objects.get(name=MONTHLY_BULLETIN_NAME).next_run == at("2026-12-01 08:00")


# -- query pins ----------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 12])
def test_the_figures_take_a_fixed_number_of_queries(extra, django_assert_max_num_queries):
    # given: more cards and items, and more units to rank
    world_build(extra_nodes=extra)
    for i in range(extra):
        UnitFactory(name=f"追加部门{i}")
        LocalityFactory(name=f"追加镇{i}")
    # when
    with django_assert_max_num_queries(6):
        figures = bulletin_figures(period_start=NOV_START, period_end=NOV_END, as_of=GENERATED)
    # then
    assert len(figures["items"]["open"]) == 2 + extra
    assert len(figures["scores"]) == 4 + 2 * extra


@pytest.mark.parametrize("extra", [0, 12])
def test_a_bulletin_page_takes_a_fixed_number_of_queries(
    client, extra, django_assert_max_num_queries
):
    # given
    w = world_build(extra_nodes=extra)
    with time_machine.travel(GENERATED, tick=False):
        bulletin = bulletin_generate(actor=w.office, period_start=NOV_START, period_end=NOV_END)
        bulletin_publish(actor=w.office, bulletin=bulletin)
    client.force_login(w.staff)
    # when
    with time_machine.travel(GENERATED, tick=False), django_assert_max_num_queries(5):
        response = client.get(reverse("bulletin-detail", args=[bulletin.pk]))
    # then
    assert response.status_code == 200
    assert response.content.decode().count('data-table="items-open"') == 1


# -- pages ---------------------------------------------------------------------------------


def published(w) -> Bulletin:
    with time_machine.travel(GENERATED, tick=False):
        bulletin = bulletin_generate(actor=w.office, period_start=NOV_START, period_end=NOV_END)
        return bulletin_publish(actor=w.office, bulletin=bulletin)


def test_everyone_reads_a_published_bulletin_and_only_the_office_a_draft(w, generated):
    # given
    office, staff = Client(), Client()
    office.force_login(w.office)
    staff.force_login(w.staff)
    detail = reverse("bulletin-detail", args=[generated.pk])
    # when: a draft
    draft_office, draft_staff = office.get(detail), staff.get(detail)
    list_staff = staff.get(reverse("bulletins")).content.decode()
    # then
    assert (draft_office.status_code, draft_staff.status_code) == (200, 404)
    assert "2026年11月节点工作法督办通报" not in list_staff
    assert "暂无已发布的通报。" in list_staff
    # when: published
    with time_machine.travel(at("2026-12-01 10:00"), tick=False):
        office.post(reverse("bulletin-publish", args=[generated.pk]))
    page = staff.get(detail)
    listed = staff.get(reverse("bulletins")).content.decode()
    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert "2026年11月节点工作法督办通报" in listed
    for words in [
        "2026年第1期",
        "本期共亮黄牌 4 张、红牌 2 张，其中已撤销 1 张。",
        "已撤销：计划日期录入错误。",
        "本期销号 1 项；截至本期末仍在督办 2 项。",
        "2026年12月1日",
        "data-print hidden",
    ]:
        assert words in text, words
    assert "发布</button>" not in text


def test_the_office_generates_last_month_from_the_form(w):
    # given
    office = Client()
    office.force_login(w.office)
    # when
    with time_machine.travel(GENERATED, tick=False):
        form = office.get(reverse("bulletins")).content.decode()
        response = office.post(reverse("bulletin-generate"), {"month": "2026-11"})
    # then
    assert 'value="2026-11"' in form
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bulletin-detail", args=[bulletin.pk])
    assert (bulletin.period_start, bulletin.period_end, bulletin.generated_by) == (
        NOV_START,
        NOV_END,
        w.office,
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "请选择月份，或填写起始日期和截止日期。"),
        ({"period_start": "2026-11-01"}, "按时段生成时，请同时填写起始日期和截止日期。"),
        ({"month": "2026-12"}, "通报时段须已结束：截止日期须早于今天。"),
        ({"month": "十一月"}, "请选择有效的月份。"),
    ],
)
def test_a_wrong_generate_form_shows_its_error_and_changes_nothing(w, body, error):
    # given
    office = Client()
    office.force_login(w.office)
    before = snapshot()
    # when
    with time_machine.travel(GENERATED, tick=False):
        response = office.post(reverse("bulletin-generate"), body)
    # then
    assert response.status_code == 400
    assert error in response.content.decode()
    assert snapshot() == before


def test_the_bulletin_page_links_each_ranked_unit_to_its_entries_in_the_period(w):
    # given
    bulletin = published(w)
    client = Client()
    client.force_login(w.staff)
    # when
    text = client.get(reverse("bulletin-detail", args=[bulletin.pk])).content.decode()
    # then: every unit, to its rankings page for the bulletin's period
    for unit in (w.land, w.housing, w.taohua, w.park):
        link = f"/rankings/unit/{unit.pk}/?start=2026-11-01&amp;end=2026-11-30"
        assert f'<a href="{link}">{unit.name}</a>' in text, unit.name
    housing = text[text.index(f'data-unit="{w.housing.pk}"') :]
    housing = housing[: housing.index("</tr>")]
    for cell in ["97", "-3", "撤销1张", '<span class="move move-same"', "—</span>"]:
        assert cell in housing, cell
    page = client.get(f"/rankings/unit/{w.housing.pk}/?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200
    assert page.context["filters"]["start"] == NOV_START
    assert page.context["filters"]["end"] == NOV_END


# Figures as bulletins stored them before the ranking came from the rankings (schema 1).
FIGURES_SCHEMA_1 = {
    "schema": 1,
    "period": {"start": "2026-10-01", "end": "2026-10-31"},
    "as_of": "2026-11-01T08:00:00+08:00",
    "cards": {
        "by_unit": [
            {"unit": "县自然资源局", "unit_kind": "department", "yellow": 1, "red": 1, "revoked": 0}
        ],
        "total": {"yellow": 1, "red": 1, "revoked": 0},
        "rows": [
            {
                "kind": "red",
                "unit": "县自然资源局",
                "project": "FX-101",
                "project_name": "某纺织厂低效用地收储项目",
                "node": "签订收储协议",
                "deadline": "2026-10-20",
                "carded_on": "2026-10-27",
                "revoked": False,
                "revoke_reason": "",
            }
        ],
    },
    "lagging": [],
    "items": {"closed": [], "open": []},
    "scores": [
        {
            "unit": "县住建局",
            "unit_kind": "department",
            "group": "department",
            "base": "100.00",
            "points": "0.00",
            "score": "100.00",
            "rank": 1,
        },
        {
            "unit": "县自然资源局",
            "unit_kind": "department",
            "group": "department",
            "base": "100.00",
            "points": "-3.00",
            "score": "97.00",
            "rank": 2,
        },
        {
            "unit": "桃花镇",
            "unit_kind": "township",
            "group": "locality",
            "base": "100.00",
            "points": "-0.50",
            "score": "99.50",
            "rank": 1,
        },
    ],
}


def test_a_bulletin_published_with_schema_1_figures_still_renders_them(w):
    """Published bulletins never change: one stored before the ranking came from the
    rankings (schema 1: base, points, score and rank) renders its own figures, on the page,
    in the PDF and in the API."""
    # given
    bulletin = Bulletin.objects.create(
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31),
        year=2026,
        serial=1,
        title="2026年10月节点工作法督办通报",
        figures=FIGURES_SCHEMA_1,
        generated_at=at("2026-11-01 08:00"),
        status="published",
        published_at=at("2026-11-02 09:00"),
        published_by=w.office,
    )
    client = Client()
    client.force_login(w.staff)
    # when
    page = client.get(reverse("bulletin-detail", args=[bulletin.pk]))
    pdf = client.get(reverse("bulletin-pdf", args=[bulletin.pk]))
    token = api_token_create(user=w.staff)
    api = Client().get(f"/api/v1/bulletins/{bulletin.pk}/", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert "得分 = 基础分 + 本期加减分，县直部门、乡镇（园区）分别排名。" in text
    rows = re.findall(
        r'<tr><td data-label="排名" class="num">(\d+)</td><td data-label="单位">([^<]+)</td>'
        r'<td data-label="基础分" class="num">([^<]+)</td>'
        r'<td data-label="本期加减分" class="num">([^<]+)</td>'
        r'<td data-label="得分" class="num">([^<]+)</td></tr>',
        text,
    )
    assert rows == [
        ("1", "县住建局", "100", "0", "100"),
        ("2", "县自然资源局", "100", "-3", "97"),
        ("1", "桃花镇", "100", "-0.5", "99.5"),
    ]
    assert "/rankings/unit/" not in text
    assert (pdf.status_code, pdf.content[:4]) == (200, b"%PDF")
    assert api.status_code == 200
    assert api.json()["figures"] == FIGURES_SCHEMA_1


def test_the_pdf_is_an_a4_pdf_with_the_title(w):
    # given
    bulletin = published(w)
    client = Client()
    client.force_login(w.staff)
    # when
    response = client.get(reverse("bulletin-pdf", args=[bulletin.pk]))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF")
    objects = pdf_objects(body)
    assert pdf_title(objects) == "2026年11月节点工作法督办通报"
    boxes = re.findall(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", objects)
    assert boxes, "no page"
    # A4 portrait: 210 × 297 mm = 595.28 × 841.89 points
    assert {(round(float(w_)), round(float(h))) for w_, h in boxes} == {(595, 842)}


def pdf_objects(body: bytes) -> bytes:
    """The PDF's bytes with every Flate stream (object streams included) decompressed."""
    parts = [body]
    for match in re.finditer(rb"stream\r?\n", body):
        start = match.end()
        try:
            parts.append(zlib.decompressobj().decompress(body[start:]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_title(objects: bytes) -> str:
    found = re.search(rb"/Title\s*<feff([0-9a-fA-F]+)>", objects)
    assert found, "no /Title"
    return bytes.fromhex(found.group(1).decode()).decode("utf-16-be")


# -- the API -------------------------------------------------------------------------------


def test_the_api_lists_published_bulletins_only(w):
    # given
    bulletin = published(w)
    with time_machine.travel(GENERATED, tick=False):
        draft = bulletin_generate(
            actor=w.office, period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31)
        )
    token = api_token_create(user=w.staff)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    # when
    listed = client.get("/api/v1/bulletins/", **headers)
    one = client.get(f"/api/v1/bulletins/{bulletin.pk}/", **headers)
    hidden = client.get(f"/api/v1/bulletins/{draft.pk}/", **headers)
    missing = client.get("/api/v1/bulletins/987654/", **headers)
    # then
    assert listed.json() == {
        "count": 1,
        "next": None,
        "results": [
            {
                "id": bulletin.pk,
                "year": 2026,
                "serial": 1,
                "title": "2026年11月节点工作法督办通报",
                "period_start": "2026-11-01",
                "period_end": "2026-11-30",
                "generated_at": "2026-12-01T08:00:00+08:00",
                "published_at": "2026-12-01T08:00:00+08:00",
            }
        ],
    }
    assert one.status_code == 200
    assert one.json()["figures"] == Bulletin.objects.get(pk=bulletin.pk).figures
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("count", [1, 6])
def test_the_api_list_takes_a_fixed_number_of_queries(w, count, django_assert_max_num_queries):
    # given
    with time_machine.travel(at("2027-12-01 08:00"), tick=False):
        for month in range(1, count + 1):
            b = bulletin_generate(
                actor=w.office,
                period_start=dt.date(2027, month, 1),
                period_end=last_month(dt.date(2027, month + 1, 1))[1],
            )
            bulletin_publish(actor=w.office, bulletin=b)
    token = api_token_create(user=w.staff)
    Client().get("/api/v1/bulletins/", HTTP_AUTHORIZATION=f"Bearer {token}")  # marks it used
    # when
    with django_assert_max_num_queries(3):
        response = Client().get("/api/v1/bulletins/", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("changes", "constraints"),
    [
        # an unknown status breaks both rules; each database names the one it checked first
        ({"status": "archived"}, {"status_valid", "published_complete"}),
        ({"status": "published"}, {"published_complete"}),
        ({"period_end": dt.date(2026, 10, 31)}, {"period_order"}),
        ({"serial": 0}, {"serial_positive"}),
    ],
)
def test_the_database_holds_a_bulletin_to_its_rules(w, generated, changes, constraints):
    """A write that bypasses the services (update() writes no history either) is refused."""
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Bulletin.objects.filter(pk=generated.pk).update(**changes)
    named = set(re.findall(r"reports_bulletin_(\w+?)\b", str(refused.value)))
    assert named and named <= constraints, named


def test_one_bulletin_per_period_and_one_number_per_year(w, generated):
    with pytest.raises(IntegrityError), transaction.atomic():
        Bulletin.objects.create(
            period_start=NOV_START,
            period_end=NOV_END,
            year=2027,
            serial=9,
            title="x",
            figures={},
            generated_at=GENERATED,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Bulletin.objects.create(
            period_start=NOV_START,
            period_end=dt.date(2026, 11, 15),
            year=2026,
            serial=1,
            title="x",
            figures={},
            generated_at=GENERATED,
        )
