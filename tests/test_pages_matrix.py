"""Every page, for every role: no server error, exactly the answer the role's scope gives, and
no write from outside a role's scope changes anything (issue 7, section 9 and "Done when").

The pages are enumerated from supervision.urls, ledger.urls and reports.urls, so a page added later is in
the matrix at once, and fails here until it has a row in the tables below.
"""

import datetime as dt
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, resolve, reverse
from django.utils.http import content_disposition_header

import ledger.urls
import reports.urls
import supervision.urls
from ledger.uploads import ledger_file_kind, pending_store
from ledger.views import SESSION_PENDING
from organization.choices import CoverageTarget
from organization.models import Coverage, Unit, User
from projects.models import (
    Enterprise,
    Node,
    NodeEvent,
    ProgressAttachment,
    ProgressReport,
    Project,
)
from projects.services import node_progress_report
from reports.models import Bulletin
from reports.services import bulletin_generate, bulletin_publish
from scoring.models import PointsEntry
from supervision.choices import CardKind
from supervision.forms.staff import seen_value
from supervision.models import (
    Card,
    InspectionAttachment,
    InspectionRecord,
    Notification,
    Recommitment,
    SupervisionItem,
)
from supervision.selectors import nodes_with_card
from supervision.services import (
    node_complete,
    recommitment_submit,
    supervision_item_add_inspection,
    sweep_run,
)
from tests.factories import (
    DisposalLineFactory,
    EnterpriseFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    """An instant in the county's local time, from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


# A Monday. The world is built from 2026-11-02 on, through the same services as the pages.
NOW = at("2026-11-30 10:00")

ROLES = (
    "anonymous",
    "staff",
    "staff_other",
    "leader",
    "leader_other",
    "principal",
    "office",
    "admin",
)


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = png_bytes()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def photo(name: str = "现场照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name: str = "会议纪要.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class World:
    """Two departments, each with a project of its own in 桃花镇, and people in every role.

    node (unit)          due    on 2026-11-30
    a_open    (land)     12-20  on track, a progress report with a photo
    a_done    (land)     11-05  done on 11-04, with a PDF as evidence
    a_yellow  (land)     11-26  yellow card (11-27), grace window to 12-02, nothing submitted
    a_pending (land)     11-26  yellow card (11-27), recommitment by `staff` waiting
    a_red     (land)     11-10  yellow (11-11), red (11-17, no recommitment), open item with an
                                on-site inspection and its photo
    b_open    (housing)  12-20  a progress report with a photo
    b_pending (housing)  11-26  yellow card, recommitment by `staff_other` waiting
    b_red     (housing)  11-10  yellow, red, open item with an inspection and its photo

    bulletins: October's, published on 11-02 (nothing happened in October: no card, no
    item; only the units' scores); a draft for 11-01 to 11-29, generated at NOW.
    """

    land: Unit
    housing: Unit
    project: Project
    other_project: Project
    nodes: dict[str, Node]
    users: dict[str, User]
    progress_file: ProgressAttachment  # on a_open
    other_progress_file: ProgressAttachment  # on b_open
    inspection_file: InspectionAttachment  # on a_red's item
    other_inspection_file: InspectionAttachment  # on b_red's item
    item: SupervisionItem  # a_red's
    red_card: Card  # a_red's
    pending: Recommitment  # a_pending's, submitted by staff
    bulletin: Bulletin  # October's, published
    draft_bulletin: Bulletin  # 11-01 to 11-29, a draft

    def node(self, key: str) -> Node:
        return self.nodes[key]


def world_build() -> World:
    """The world, built as it would have happened in November 2026; the clock ends at NOW."""
    with time_machine.travel(at("2026-11-02 09:00"), tick=False) as traveller:
        land = UnitFactory(name="县自然资源局")
        housing = UnitFactory(name="县住建局")
        taohua = LocalityFactory(name="桃花镇")
        users = {
            "staff": make_user("staff", land, username="staff"),
            "staff_other": make_user("staff", housing, username="staff_other"),
            "leader": make_user("leader", land, username="leader"),
            "leader_other": make_user("leader", housing, username="leader_other"),
            "principal": make_user("principal", username="principal"),
            "office": make_user("supervisor", username="office"),
            "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
        }
        enterprise = EnterpriseFactory(name="合肥某纺织有限公司", locality=taohua)
        project = ProjectFactory(
            code="FX-001",
            name="某纺织厂低效用地收储项目",
            locality=taohua,
            enterprise=enterprise,
            leader=users["leader"],
        )
        DisposalLineFactory(project=project, method="takeback")
        other_project = ProjectFactory(code="FX-002", name="某机械厂嫁接盘活项目", locality=taohua)
        DisposalLineFactory(project=other_project, method="grafting")
        Coverage.objects.create(
            leader=users["leader"], target=CoverageTarget.ENTERPRISE, enterprise=enterprise
        )
        bulletin = bulletin_publish(
            actor=users["office"],
            bulletin=bulletin_generate(
                actor=users["office"],
                period_start=dt.date(2026, 10, 1),
                period_end=dt.date(2026, 10, 31),
            ),
        )
        rows = [
            ("a_done", project, land, "完成土地测绘", dt.date(2026, 11, 5)),
            ("a_red", project, land, "签订收储协议", dt.date(2026, 11, 10)),
            ("a_yellow", project, land, "完成资产评估", dt.date(2026, 11, 26)),
            ("a_pending", project, land, "支付补偿款", dt.date(2026, 11, 26)),
            ("a_open", project, land, "完成土地交付", dt.date(2026, 12, 20)),
            ("b_red", other_project, housing, "完成厂房鉴定", dt.date(2026, 11, 10)),
            ("b_pending", other_project, housing, "签订合作协议", dt.date(2026, 11, 26)),
            ("b_open", other_project, housing, "完成设备更新", dt.date(2026, 12, 20)),
        ]
        nodes = {
            key: NodeFactory(project=proj, seq=seq, name=name, unit=unit, due_date=due)
            for seq, (key, proj, unit, name, due) in enumerate(rows, start=1)
        }

        traveller.move_to(at("2026-11-04 15:00"))
        node_complete(
            node=nodes["a_done"], actor=users["staff"], note="测绘成果已归档。", files=[pdf()]
        )
        node_progress_report(
            node=nodes["a_open"],
            actor=users["staff"],
            percent=40,
            note="已完成清点。",
            files=[photo()],
        )
        node_progress_report(
            node=nodes["b_open"],
            actor=users["staff_other"],
            percent=30,
            note="设备已到场。",
            files=[photo("设备照片.png")],
        )

        # Yellow cards for the nodes due on 11-10; no recommitment within the window
        # (to the end of Monday 11-16), so red cards on Tuesday 11-17 and two open items.
        traveller.move_to(at("2026-11-11 01:00"))
        sweep_run()
        traveller.move_to(at("2026-11-17 01:00"))
        sweep_run()
        items = {key: SupervisionItem.objects.get(node=nodes[key]) for key in ("a_red", "b_red")}
        traveller.move_to(at("2026-11-18 15:00"))
        for item in items.values():
            supervision_item_add_inspection(
                item=item,
                actor=users["office"],
                mode="offline",
                inspected_on=dt.date(2026, 11, 18),
                text="现场督查：协议文本已起草。",
                files=[photo("现场督查.png")],
            )

        # Yellow cards for the nodes due on 11-26; two of them get a recommitment.
        traveller.move_to(at("2026-11-27 01:00"))
        sweep_run()
        traveller.move_to(at("2026-11-30 09:00"))
        pending = recommitment_submit(
            node=nodes["a_pending"],
            actor=users["staff"],
            reason="补偿资金尚未到位。",
            new_due_date=dt.date(2026, 12, 10),
        )
        recommitment_submit(
            node=nodes["b_pending"],
            actor=users["staff_other"],
            reason="合作方尚在内部审批。",
            new_due_date=dt.date(2026, 12, 11),
        )
        traveller.move_to(NOW)
        sweep_run()  # the reminders of the day
        draft_bulletin = bulletin_generate(
            actor=users["office"],
            period_start=dt.date(2026, 11, 1),
            period_end=dt.date(2026, 11, 29),
        )

    return World(
        land=land,
        housing=housing,
        project=project,
        other_project=other_project,
        nodes={key: Node.objects.get(pk=node.pk) for key, node in nodes.items()},
        users=users,
        progress_file=ProgressAttachment.objects.get(report__node=nodes["a_open"]),
        other_progress_file=ProgressAttachment.objects.get(report__node=nodes["b_open"]),
        inspection_file=InspectionAttachment.objects.get(record__item=items["a_red"]),
        other_inspection_file=InspectionAttachment.objects.get(record__item=items["b_red"]),
        item=items["a_red"],
        red_card=Card.objects.get(node=nodes["a_red"], kind=CardKind.RED),
        pending=pending,
        bulletin=Bulletin.objects.get(pk=bulletin.pk),
        draft_bulletin=Bulletin.objects.get(pk=draft_bulletin.pk),
    )


@pytest.fixture
def w() -> World:
    return world_build()


@pytest.fixture
def frozen(w):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_world_is_what_the_tables_assume(w, frozen):
    """The tables below hold for this world only: each node in the state its docstring says."""
    nodes = nodes_with_card(Node.objects.filter(pk__in=[n.pk for n in w.nodes.values()]))
    by_key = {key: nodes.get(pk=node.pk) for key, node in w.nodes.items()}
    assert {
        key: (n.card_kind, n.has_pending, n.completed_at is not None) for key, n in by_key.items()
    } == {
        "a_done": (None, False, True),
        "a_red": ("red", False, False),
        "a_yellow": ("yellow", False, False),
        "a_pending": ("yellow", True, False),
        "a_open": (None, False, False),
        "b_red": ("red", False, False),
        "b_pending": ("yellow", True, False),
        "b_open": (None, False, False),
    }
    assert (w.pending.node_id, w.pending.submitted_by, w.pending.status) == (
        w.node("a_pending").pk,
        w.users["staff"],
        "pending",
    )
    assert list(SupervisionItem.objects.values_list("node_id", "status").order_by("pk")) == [
        (w.node("a_red").pk, "open"),
        (w.node("b_red").pk, "open"),
    ]
    assert (w.red_card.node_id, w.red_card.kind, w.item.card_id) == (
        w.node("a_red").pk,
        "red",
        w.red_card.pk,
    )
    assert ProgressAttachment.objects.filter(report__node=w.node("a_done")).count() == 1
    assert list(Bulletin.objects.values_list("pk", "status").order_by("pk")) == [
        (w.bulletin.pk, "published"),
        (w.draft_bulletin.pk, "draft"),
    ]


# -- the pages -----------------------------------------------------------------------------


def page_patterns() -> dict[str, URLPattern]:
    """Every page of the app by its URL name: the patterns of supervision.urls, ledger.urls
    and reports.urls."""
    found: dict[str, URLPattern] = {}

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            assert pattern.name, f"the page {pattern.pattern} has no URL name"
            assert pattern.name not in found, f"two pages are named {pattern.name!r}"
            found[pattern.name] = pattern

    walk([*supervision.urls.urlpatterns, *ledger.urls.urlpatterns, *reports.urls.urlpatterns])
    return found


PAGES = page_patterns()

# How to fill a URL's parameters from the world: by (page, parameter) first, then by
# parameter. Every object belongs to the land department (县自然资源局), the unit of `staff`
# and `leader`; `staff_other` and `leader_other` work for the housing department.
PARAMS = {
    "node_id": lambda w: w.node("a_open").pk,
    ("node-recommit", "node_id"): lambda w: w.node("a_yellow").pk,
    "item_id": lambda w: w.item.pk,
    "card_id": lambda w: w.red_card.pk,
    "code": lambda w: w.project.code,
    ("approval-decide", "pk"): lambda w: w.pending.pk,
    ("attachment", "kind"): lambda w: "progress",
    ("attachment", "attachment_id"): lambda w: w.progress_file.pk,
    "unit_id": lambda w: w.land.pk,
    "bulletin_id": lambda w: w.bulletin.pk,
    ("bulletin-publish", "bulletin_id"): lambda w: w.draft_bulletin.pk,
}


def page_url(name: str, w: World) -> str:
    """The page's URL, its parameters filled from the world; a parameter nobody told this
    module how to fill fails the test, so that a new page cannot slip through untested."""
    regex = PAGES[name].pattern.regex
    if regex.groups != len(regex.groupindex):
        pytest.fail(f"{name}: the URL has an unnamed parameter; name it")
    kwargs = {}
    for param in regex.groupindex:
        fill = PARAMS.get((name, param)) or PARAMS.get(param)
        if fill is None:
            pytest.fail(f"{name}: no value for the URL parameter {param!r}; add one to PARAMS")
        kwargs[param] = fill(w)
    return reverse(name, kwargs=kwargs)


def table(text: str) -> dict[str, dict[str, str]]:
    """A table written as text, one row per page, one column per role: {page: {role: cell}}."""
    header, *rows = [line.split() for line in text.strip().splitlines()]
    assert header[1:] == list(ROLES), header
    parsed = {}
    for row in rows:
        assert len(row) == len(header), row
        assert row[0] not in parsed, row[0]
        parsed[row[0]] = dict(zip(ROLES, row[1:], strict=True))
    return parsed


def client_for(w: World, role: str, **kwargs) -> Client:
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(w.users[role])
    return client


def answer(response, url: str) -> str:
    """A response as a cell of the tables: its status code; "login" for the redirect to the
    login page (back to `url`); ">name" for a redirect to the page of that URL name."""
    if response.status_code in (301, 302):
        location = urlsplit(response["Location"])
        if location.path == reverse("login"):
            return "login" if parse_qs(location.query) == {"next": [url]} else response["Location"]
        return ">" + resolve(location.path).url_name
    return str(response.status_code)


# What a GET of each page answers, per role:
#   200     the page
#   login   302 to the login page, which comes back here
#   >name   302 to the page of that URL name, where the role's work is
#   403     the role may not use the page (the custom 403 page)
#   404     the object is outside the role's scope: nothing says it exists
#   405     the URL takes only POST
# The objects are the land department's: `staff` and `leader` have them in scope,
# `staff_other` and `leader_other` (housing) do not. `admin` is a superuser holding no role.
GET_TABLE = table(
    """
page                   anonymous staff  staff_other leader     leader_other principal  office admin
home                   login     200    200         200        200          200        200    200
node-list              login     200    200         200        200          200        200    200
notifications          login     200    200         200        200          200        200    200
notifications-read-all login     405    405         405        405          405        405    405
todo                   login     200    200         >home      >home        >home      >home  >home
weekly                 login     200    200         >home      >home        >home      >home  >home
node                   login     200    404         200        404          200        200    200
node-progress          login     200    404         403        404          403        403    403
node-complete          login     200    404         403        404          403        403    403
node-recommit          login     200    404         403        404          403        403    403
attachment             login     200    404         200        404          200        200    200
approvals              login     403    403         200        200          200        403    403
approval-decide        login     405    405         405        405          405        405    405
coverage               login     403    403         200        200          200        403    403
items                  login     403    403         200        200          200        200    200
items-export           login     403    403         200        200          200        200    200
item                   login     403    403         200        404          200        200    200
item-inspect           login     405    405         405        405          405        405    405
item-deadline          login     405    405         405        405          405        405    405
item-close             login     405    405         405        405          405        405    405
cards                  login     200    200         200        200          200        200    200
cards-export           login     200    200         200        200          200        200    200
card-revoke            login     403    404         403        404          403        200    403
projects               login     200    200         200        200          200        200    200
project                login     200    404         200        404          200        200    200
ledger-upload          login     403    403         403        403          403        200    403
ledger-confirm         login     405    405         405        405          405        405    405
ledger-cancel          login     405    405         405        405          405        405    405
ledger-export          login     403    403         403        403          403        200    403
audit                  login     403    403         403        403          403        200    403
rankings               login     200    200         200        200          200        200    200
rankings-unit          login     200    200         200        200          200        200    200
rankings-record        login     405    405         405        405          405        405    405
rankings-export        login     200    200         200        200          200        200    200
battle-map             login     200    200         200        200          200        200    200
battle-map-pdf         login     200    200         200        200          200        200    200
bulletins              login     200    200         200        200          200        200    200
bulletin-generate      login     405    405         405        405          405        405    405
bulletin-detail        login     200    200         200        200          200        200    200
bulletin-pdf           login     200    200         200        200          200        200    200
bulletin-publish       login     405    405         405        405          405        405    405
"""
)


def test_the_get_table_has_a_row_for_every_page_and_no_other():
    assert sorted(GET_TABLE) == sorted(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_answers_every_role_as_its_scope_says(w, frozen, name):
    # given
    if name not in GET_TABLE:
        pytest.fail(f"the page {name!r} has no row in GET_TABLE")
    url = page_url(name, w)
    before = state()
    # when
    responses = {role: client_for(w, role).get(url) for role in ROLES}
    # then
    assert {role: r.status_code for role, r in responses.items() if r.status_code >= 500} == {}
    assert {role: answer(r, url) for role, r in responses.items()} == GET_TABLE[name]
    refusals = {role: r for role, r in responses.items() if r.status_code in (403, 404)}
    # A refusal is the site's own page, in the layout, with the navigation of the role.
    assert {role: [t.name for t in r.templates][:2] for role, r in refusals.items()} == {
        role: [f"{r.status_code}.html", "base.html"] for role, r in refusals.items()
    }
    assert state() == before


# -- what a page could change --------------------------------------------------------------


def rows(model, *fields) -> list[tuple]:
    return list(model.objects.order_by("pk").values_list(*fields))


def state() -> dict:
    """Everything a page could write, to compare before and after a refused request: the
    rows and key fields of the tables the pages write, their history, and the stored files."""
    media = Path(settings.MEDIA_ROOT)
    return {
        "projects": rows(Project, "id", "code", "name", "status"),
        "nodes": rows(
            Node,
            "id",
            "due_date",
            "committed_due_date",
            "completed_at",
            "progress",
            "updated_at",
        ),
        "reports": rows(ProgressReport, "id", "node_id", "percent", "note", "is_completion"),
        "report_files": rows(ProgressAttachment, "id", "report_id", "file"),
        "recommitments": rows(
            Recommitment,
            "id",
            "status",
            "decided_by_id",
            "decided_at",
            "comment",
            "new_due_date",
        ),
        "cards": rows(
            Card, "id", "kind", "revoked_at", "revoked_by_id", "revoke_reason", "reversal"
        ),
        "points": rows(PointsEntry, "id", "unit_id", "kind", "points"),
        "items": rows(
            SupervisionItem,
            "id",
            "status",
            "supervised_deadline",
            "ready_to_close_at",
            "closed_at",
            "closed_by_id",
            "close_note",
        ),
        "inspections": rows(InspectionRecord, "id", "item_id", "mode", "inspected_on", "text"),
        "inspection_files": rows(InspectionAttachment, "id", "record_id", "file"),
        "events": rows(NodeEvent, "id", "node_id", "kind"),
        "notifications": rows(Notification, "id", "recipient_id", "kind", "read_at"),
        "units": rows(Unit, "id", "name"),
        "users": rows(User, "id", "username", "is_active"),
        "enterprises": rows(Enterprise, "id", "name"),
        "bulletins": rows(Bulletin, "id", "status", "generated_at", "published_at", "figures"),
        "history": [
            model.history.count()
            for model in (
                Project,
                Node,
                Card,
                Recommitment,
                SupervisionItem,
                PointsEntry,
                Bulletin,
            )
        ],
        "files": sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()),
    }


# -- writes --------------------------------------------------------------------------------

LEDGER_CSV = (
    "项目编号,项目名称,乡镇园区,企业名称,处置方式,面积(亩),节点序号,节点名称,责任单位,"
    "计划完成日期,完成日期,责任人,包保领导\n"
    "FX-101,某机械厂低效用地收储,三河镇,合肥某机械有限公司,收储收回,56.30,1,完成土地测绘,"
    "县自然资源局,2026-12-10,,李明,\n"
)


def ledger_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("台账.csv", LEDGER_CSV.encode("utf-8-sig"), content_type="text/csv")


def ledger_waiting(client: Client) -> None:
    """A previewed ledger waiting in the client's session for 确认导入 or 取消, as the upload
    page leaves it for the office."""
    upload = ledger_file()
    pending = pending_store(upload, ledger_file_kind(upload))
    session = client.session
    session[SESSION_PENDING] = pending.as_session()
    session.save()


def weekly_body(w: World, client: Client) -> dict:
    """Every open node of the land department, moved on by 10 points."""
    body = {}
    for node in Node.objects.filter(unit=w.land, completed_at__isnull=True):
        body |= {
            f"percent_{node.pk}": node.progress + 10,
            f"note_{node.pk}": "本周推进顺利。",
            f"seen_{node.pk}": seen_value(node),
        }
    return body


# A valid body for each write, as its form would send it (a fresh file each time).
BODIES = {
    "notifications-read-all": lambda w, client: {},
    "weekly": weekly_body,
    "node-progress": lambda w, client: {
        "percent": 60,
        "note": "已完成六成。",
        "files": photo(),
        "seen": seen_value(w.node("a_open")),
    },
    "node-complete": lambda w, client: {
        "note": "已交付。",
        "files": pdf("交付确认书.pdf"),
        "seen": seen_value(w.node("a_open")),
    },
    "node-recommit": lambda w, client: {
        "reason": "评估机构排期延后。",
        "new_due_date": "2026-12-15",
        "seen": seen_value(w.node("a_yellow")),
    },
    "approval-decide": lambda w, client: {"decision": "approve", "comment": "同意。"},
    "item-inspect": lambda w, client: {
        "mode": "offline",
        "inspected_on": "2026-11-30",
        "text": "再次现场督查。",
        "files": photo(),
    },
    "item-deadline": lambda w, client: {"supervised_deadline": "2026-12-15"},
    "item-close": lambda w, client: {"note": "已整改到位。"},
    "card-revoke": lambda w, client: {"reason": "节点计划日期录入错误。"},
    "ledger-upload": lambda w, client: {"file": ledger_file()},
    "ledger-confirm": lambda w, client: ledger_waiting(client) or {},
    "ledger-cancel": lambda w, client: ledger_waiting(client) or {},
    "rankings-record": lambda w, client: {
        "kind": "bonus",
        "points": "2",
        "occurred_on": "2026-11-30",
        "reason": "省级表彰。",
        "node": "",
    },
    "bulletin-generate": lambda w, client: {
        "period_start": "2026-11-01",
        "period_end": "2026-11-15",
    },
    "bulletin-publish": lambda w, client: {},
}

# What a POST of each write's valid body answers, per role:
#   ok      the write goes through (302, and something changed)
#   own     the write goes through for the role's own rows only (302; nothing else changed)
#   login   302 to the login page; nothing changed
#   >home   302 to the role's own work; nothing changed
#   400     the page is shown again with its errors; nothing changed
#   403     refused for the role; nothing changed
#   404     the object is outside the role's scope; nothing changed
# `staff_other` posting the weekly form gets its own form back, whose rows are its own
# unit's nodes: the land department's rows it sent are not even read.
POST_TABLE = table(
    """
page                   anonymous staff  staff_other leader leader_other principal office admin
notifications-read-all login     own    own         own    own          own       own    own
weekly                 login     ok     400         >home  >home        >home     >home  >home
node-progress          login     ok     404         403    404          403       403    403
node-complete          login     ok     404         403    404          403       403    403
node-recommit          login     ok     404         403    404          403       403    403
approval-decide        login     403    403         ok     404          ok        403    403
item-inspect           login     403    403         403    404          403       ok     403
item-deadline          login     403    403         403    404          403       ok     403
item-close             login     403    403         403    404          403       ok     403
card-revoke            login     403    404         403    404          403       ok     403
ledger-upload          login     403    403         403    403          403       ok     403
ledger-confirm         login     403    403         403    403          403       ok     403
ledger-cancel          login     403    403         403    403          403       ok     403
rankings-record        login     403    403         403    403          403       ok     403
bulletin-generate      login     403    403         403    403          403       ok     403
bulletin-publish       login     404    404         404    404          404       ok     404
"""
)


def test_the_post_table_has_a_body_for_every_write_and_names_only_pages():
    assert sorted(BODIES) == sorted(POST_TABLE)
    assert set(POST_TABLE) <= set(PAGES)


def without(snapshot: dict, key: str, ids: set[int]) -> dict:
    """The snapshot without the rows of `key` whose id is in `ids`."""
    return snapshot | {key: [row for row in snapshot[key] if row[0] not in ids]}


def post_as(w: World, role: str, name: str, url: str) -> tuple[str, dict, dict]:
    """POST the page's valid body as `role`: its answer, and the state before and after."""
    client = client_for(w, role)
    body = BODIES[name](w, client)
    before = state()
    response = client.post(url, body)
    assert response.status_code < 500, (role, response.status_code)
    return answer(response, url), before, state()


@pytest.mark.parametrize("name", sorted(POST_TABLE))
def test_no_write_goes_through_outside_a_roles_scope(w, frozen, name):
    """Every role is refused exactly as the table says, and a refused write changes nothing;
    each role the table lets through does write (in a savepoint rolled back afterwards), so
    the refusals are not of a body that nobody could send."""
    url = page_url(name, w)
    answers = {}
    for role, expected in POST_TABLE[name].items():
        with transaction.atomic():
            result, before, after = post_as(w, role, name, url)
            if expected == "ok":
                assert result.startswith(">") and after != before, (role, result)
                result = "ok"
            elif expected == "own":
                mine = set(
                    Notification.objects.filter(recipient=w.users[role]).values_list(
                        "pk", flat=True
                    )
                )
                assert not Notification.objects.filter(pk__in=mine, read_at__isnull=True).exists()
                assert without(after, "notifications", mine) == without(
                    before, "notifications", mine
                )
                result = "own" if result == ">notifications" else result
            else:
                assert after == before, role
            transaction.set_rollback(True)
        answers[role] = result
    assert answers == POST_TABLE[name]


@pytest.mark.parametrize("name", sorted(set(PAGES) - set(POST_TABLE)))
def test_a_post_to_a_page_that_only_reads_changes_nothing(w, frozen, name):
    """A page without a row in POST_TABLE only reads: an empty POST, as any role, changes
    nothing (a write page added later without a row is caught here or by its body)."""
    url = page_url(name, w)
    for role in ROLES:
        # given
        client = client_for(w, role)
        before = state()
        # when
        response = client.post(url, {"percent": 100, "decision": "approve", "reason": "x"})
        # then
        assert response.status_code < 500, role
        assert state() == before, role


def test_the_weekly_form_reads_only_the_users_own_units_rows(w, frozen):
    """Rows of another unit's nodes smuggled into a weekly update are not read: only the
    sender's own node moves."""
    # given
    client = client_for(w, "staff_other")
    own = w.node("b_open")
    body = weekly_body(w, client)
    for node in Node.objects.filter(unit=w.housing, completed_at__isnull=True):
        body |= {
            f"percent_{node.pk}": 80 if node == own else node.progress,
            f"note_{node.pk}": "",
            f"seen_{node.pk}": seen_value(node),
        }
    before = state()
    # when
    response = client.post(reverse("weekly"), body)
    # then
    assert answer(response, reverse("weekly")) == ">weekly"
    after = state()
    report = ProgressReport.objects.get(pk=max(row[0] for row in after["reports"]))
    assert (report.node_id, report.percent, report.author_id) == (
        own.pk,
        80,
        w.users["staff_other"].pk,
    )
    assert [row for row in after["nodes"] if row[0] != own.pk] == [
        row for row in before["nodes"] if row[0] != own.pk
    ]
    assert len(after["reports"]) == len(before["reports"]) + 1


def test_a_leader_who_covers_a_project_sees_another_units_node_but_cannot_decide_it(w, frozen):
    """包保 lets a leader read every node of a project they cover; deciding a recommitment
    stays with the leaders in charge of the node's unit and the principal leaders."""
    # given: a housing node in the land project that `leader` leads and covers, yellow-carded,
    # with a recommitment of its unit waiting
    with time_machine.travel(at("2026-11-02 09:00"), tick=False) as traveller:
        node = NodeFactory(
            project=w.project,
            seq=9,
            name="完成管线迁改",
            unit=w.housing,
            due_date=dt.date(2026, 11, 26),
        )
        traveller.move_to(at("2026-11-27 01:00"))
        sweep_run()
        traveller.move_to(at("2026-11-30 09:30"))
        pending = recommitment_submit(
            node=node,
            actor=w.users["staff_other"],
            reason="管线单位尚未进场。",
            new_due_date=dt.date(2026, 12, 18),
        )
    client = client_for(w, "leader")
    before = state()
    # when
    page = client.get(reverse("node", kwargs={"node_id": node.pk}))
    decide = client.post(
        reverse("approval-decide", kwargs={"pk": pending.pk}),
        {"decision": "approve", "comment": "同意。"},
    )
    inbox = client.get(reverse("approvals"))
    # then
    assert page.status_code == 200
    assert reverse("approval-decide", kwargs={"pk": pending.pk}) not in page.content.decode()
    assert decide.status_code == 404
    assert f"rec-{pending.pk}" not in inbox.content.decode()
    assert state() == before


# -- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role", "form_page"),
    [
        ("notifications-read-all", "staff", "notifications"),
        ("node-progress", "staff", "node-progress"),
        ("approval-decide", "leader", "approvals"),
        ("item-close", "office", "item"),
        ("ledger-upload", "office", "ledger-upload"),
    ],
)
def test_a_write_without_the_csrf_token_is_refused_with_nothing_changed(
    w, frozen, name, role, form_page
):
    """One write per area, by a role that may make it: without the form's CSRF token it is
    refused and changes nothing; with the token the same body goes through."""
    # given: a browser that checks CSRF as a real one does
    client = client_for(w, role, enforce_csrf_checks=True)
    url = page_url(name, w)
    before = state()
    # when
    refused = client.post(url, BODIES[name](w, client))
    # then
    assert refused.status_code == 403
    assert state() == before
    # when: the same body with the token the form page hands out
    client.get(page_url(form_page, w))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(url, BODIES[name](w, client) | {"csrfmiddlewaretoken": token})
    # then
    assert accepted.status_code == 302
    assert state() != before


# -- downloads -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["progress", "inspection"])
def test_another_units_attachment_is_not_found_for_staff_and_a_download_for_the_office(
    w, frozen, kind
):
    # given: a file on a node of the housing department
    attachment = w.other_progress_file if kind == "progress" else w.other_inspection_file
    url = reverse("attachment", kwargs={"kind": kind, "attachment_id": attachment.pk})
    staff = client_for(w, "staff")
    # when
    refused = staff.get(url)
    refused_inline = staff.get(url, {"inline": "1"})
    own = client_for(w, "staff_other").get(url)
    office = client_for(w, "office").get(url)
    # then
    assert (refused.status_code, refused_inline.status_code) == (404, 404)
    for response in (own, office):
        assert response.status_code == 200
        assert response["Content-Disposition"] == content_disposition_header(True, attachment.name)
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content) == PNG


def land_markers(w: World) -> list[str]:
    """Words only the land department's pages carry: its project, its nodes, what its staff wrote."""
    return [
        w.project.code,
        w.project.name,
        w.project.enterprise.name,
        *(node.name for key, node in w.nodes.items() if key.startswith("a_")),
        "已完成清点。",  # a_open's progress note
        "补偿资金尚未到位。",  # a_pending's overdue reason
    ]


def read_urls(w: World) -> list[str]:
    """Every page as the tables request it, and the lists again with the filters that widen
    them most or point straight at the land department."""
    return [page_url(name, w) for name in sorted(PAGES)] + [
        reverse("cards") + "?kind=yellow",
        reverse("cards") + "?kind=red&revoked=",
        reverse("cards") + f"?kind=yellow&project={w.project.code}&unit={w.land.name}",
        reverse("items") + "?status=",
        reverse("items") + f"?status=&unit={w.land.name}",
        reverse("node-list") + f"?unit={w.land.name}&light=red",
        reverse("home") + "?as_of=2026-11-20",
        reverse("projects") + f"?q={w.project.code}",
        reverse("projects") + f"?unit={w.land.pk}&card=red",
        reverse("project", kwargs={"code": w.project.code}) + "?all=1",
        reverse("items-export") + "?format=csv&status=",
        reverse("cards-export") + "?format=csv&kind=yellow",
        reverse("cards-export") + "?format=csv&kind=red&revoked=",
        reverse("ledger-export") + "?format=csv",
    ]


def shown(client: Client, url: str) -> str:
    """The text of a page a role is given (200, HTML or a CSV export); "" for anything else."""
    response = client.get(url)
    assert response.status_code < 500, url
    if response.status_code == 200 and response["Content-Type"].startswith("text/csv"):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return ""
    return response.content.decode()


@pytest.mark.parametrize("role", ["staff_other", "leader_other"])
def test_no_page_shows_another_units_projects_or_nodes(w, frozen, role):
    """Lists answer 200 to everyone who may use them: what they list must be the role's own."""
    # given
    markers = land_markers(w)
    urls = read_urls(w)
    # when
    leaks = {
        # A filter's own value is echoed in its input: that says nothing the role did not type.
        url: [marker for marker in markers if marker in text and marker not in url]
        for url in urls
        if (text := shown(client_for(w, role), url))
    }
    # then
    assert {url: found for url, found in leaks.items() if found} == {}


def test_the_land_departments_leader_is_shown_every_marker(w, frozen):
    """The control of the test above: each marker is shown somewhere to those in scope."""
    # given
    client = client_for(w, "leader")
    # when
    text = "".join(shown(client, url) for url in read_urls(w))
    # then
    assert [marker for marker in land_markers(w) if marker not in text] == []
