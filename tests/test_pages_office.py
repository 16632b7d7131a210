"""Pages of the supervision office: the priority list and card lists with their filters (the
same as the API's), the item page with inspections, deadline and closing, card revocation."""

import datetime as dt
import re
import struct
import zlib
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from organization.tokens import api_token_create
from projects.models import NodeEvent
from scoring.selectors import unit_scores
from supervision.models import (
    Card,
    InspectionAttachment,
    InspectionRecord,
    SupervisionItem,
)
from tests.factories import (
    DisposalLineFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    make_user,
)
from tests.test_api_support import (
    api_get,
    card_make,
    card_mark_revoked,
    item_make,
    recommitment_make,
    snapshot,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
# A Monday.
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SH)
# A list page: session, user, roles, unread count, calendar, the work streams and the two
# unit lists of the filter bar, the count and the page of rows (with their last inspection
# in subqueries).
LIST_QUERIES = 10


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


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


class World:
    """Four supervision items across two townships and a park, two units, three methods.

    item   project  locality   unit          methods                 held to  done   overdue
    taohua FX-001   桃花镇      县自然资源局   收储收回                  11-20    -      10
    zipeng FX-002   紫蓬镇      县住建局       嫁接盘活+自主提升          11-02    -      28
    park   FX-003   桃花工业园  县自然资源局   自主提升                  10-01    11-10  40 (ready)
    closed FX-004   桃花镇      县住建局       收储收回                  11-25    -      5 (closed)
    """

    def __init__(self):
        self.land = UnitFactory(name="县自然资源局")
        self.housing = UnitFactory(name="县住建局")
        self.taohua = LocalityFactory(name="桃花镇")
        self.zipeng = LocalityFactory(name="紫蓬镇")
        self.park = LocalityFactory(name="桃花工业园", kind="park")
        self.office = make_user("supervisor", username="dcb")
        self.office.full_name = "孙丽"
        self.office.save()
        self.leader = make_user("leader", self.housing, username="leader")
        self.principal = make_user("principal", username="principal")
        self.staff = make_user("staff", self.land, username="staff")
        self.items = {}
        rows = [
            ("taohua", "FX-001", self.taohua, self.land, ["takeback"], dt.date(2026, 11, 20)),
            (
                "zipeng",
                "FX-002",
                self.zipeng,
                self.housing,
                ["grafting", "self_upgrade"],
                dt.date(2026, 11, 2),
            ),
            ("park", "FX-003", self.park, self.land, ["self_upgrade"], dt.date(2026, 10, 1)),
            ("closed", "FX-004", self.taohua, self.housing, ["takeback"], dt.date(2026, 11, 25)),
        ]
        for n, (key, code, locality, unit, methods, due) in enumerate(rows):
            project = ProjectFactory(
                code=code, name=f"{locality.name}项目{n + 1}", locality=locality
            )
            for method in methods:
                DisposalLineFactory(project=project, method=method, area_mu=Decimal("10.00"))
            node = NodeFactory(project=project, seq=1, name=f"节点{n + 1}", unit=unit, due_date=due)
            card_make(node, "yellow")
            red = card_make(node, "red", breached_at=dt.datetime(2026, 11, 21 + n, tzinfo=SH))
            self.items[key] = item_make(red)
        park = self.items["park"]
        park.node.completed_at = dt.datetime(2026, 11, 10, 15, 0, tzinfo=SH)
        park.node.save()
        park.ready_to_close_at = park.node.completed_at
        park.save()
        closed = self.items["closed"]
        closed.status, closed.closed_at, closed.closed_by = "closed", NOW, self.office
        closed.close_note = "已完成腾退"
        closed.save()


@pytest.fixture
def w():
    return World()


def row_text(body: str, pk: int) -> str:
    """The text of the table row of `pk`, as a person reads it."""
    row = body[body.index(f'data-row="{pk}"') :]
    row = row[row.index(">") + 1 : row.index("</tr>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()


def row_html(body: str, pk: int) -> str:
    row = body[body.index(f'data-row="{pk}"') :]
    return row[: row.index("</tr>")]


def listed(response) -> list[int]:
    """The ids of the items or cards a list page shows, in order."""
    body = response.content.decode()
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', body)]


# -- the priority list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["park", "zipeng", "taohua"]),
        ({"locality": "桃花镇"}, ["taohua"]),
        ({"locality": "桃花工业园"}, ["park"]),
        ({"unit": "县住建局"}, ["zipeng"]),
        ({"unit": "县自然资源局"}, ["park", "taohua"]),
        ({"method": "self_upgrade"}, ["park", "zipeng"]),
        ({"method": "grafting"}, ["zipeng"]),
        ({"overdue_min": "20"}, ["park", "zipeng"]),
        ({"overdue_max": "30"}, ["zipeng", "taohua"]),
        ({"overdue_min": "20", "overdue_max": "30"}, ["zipeng"]),
        ({"overdue_min": "10", "overdue_max": "10"}, ["taohua"]),
        ({"status": "closed"}, ["closed"]),
        ({"status": ""}, ["closed", "park", "zipeng", "taohua"]),
        ({"status": "", "locality": "桃花镇", "method": "takeback"}, ["closed", "taohua"]),
        ({"unit": "县住建局", "method": "takeback"}, []),
    ],
)
def test_each_filter_narrows_the_list_exactly_and_the_api_agrees(client, w, query, expected):
    # given
    client.force_login(w.office)
    token = api_token_create(user=w.office)
    want = [w.items[key].pk for key in expected]
    # when
    page = client.get(reverse("items"), query)
    api_query = {"status": "open", **{k: v for k, v in query.items() if k != "status"}}
    if query.get("status"):
        api_query["status"] = query["status"]
    elif "status" in query:
        api_query.pop("status")
    api = api_get(client, "supervision-items/", token, **api_query)
    # then
    assert page.status_code == 200
    assert listed(page) == want
    assert api.status_code == 200
    assert [row["id"] for row in api.json()["results"]] == want


def test_the_list_shows_every_column(client, w):
    # given: an on-site inspection of the township's item and a supervised deadline
    taohua = w.items["taohua"]
    InspectionRecord.objects.create(
        item=taohua,
        mode="offline",
        inspected_on=dt.date(2026, 11, 27),
        text="现场督查：企业同意腾退，正在清点设备",
        author=w.office,
    )
    InspectionRecord.objects.create(
        item=taohua,
        mode="online",
        inspected_on=dt.date(2026, 11, 25),
        text="电话催办",
        author=w.office,
    )
    taohua.supervised_deadline = dt.date(2026, 12, 4)
    taohua.save()
    client.force_login(w.office)
    # when
    body = client.get(reverse("items")).content.decode()
    # then
    row = row_html(body, taohua.pk)
    assert row_text(body, taohua.pk) == (
        "FX-001 桃花镇项目1 1. 节点1 县自然资源局 桃花镇 11月21日（周六） 10 天 "
        "12月4日（周五） 还剩 4 个工作日 线下 11月27日（周五） 现场督查：企业同意腾退，正在清点设备 督办中"
    )
    assert reverse("item", args=[taohua.pk]) in row
    assert "暂无督查记录" in body  # the other items
    assert "节点已办结，可销号" in body  # the park's node is done


def test_a_bad_filter_says_so_and_lists_nothing(client, w):
    client.force_login(w.office)
    body = client.get(
        reverse("items"), {"overdue_min": "-1", "unit": "县不存在局"}
    ).content.decode()
    assert listed(client.get(reverse("items"), {"overdue_min": "-1"})) == []
    assert "超期天数不少于" in body and "责任单位" in body
    assert "筛选条件有误" in body


def test_the_api_refuses_an_unknown_unit_or_method(client, w):
    token = api_token_create(user=w.office)
    response = api_get(client, "supervision-items/", token, unit="县不存在局")
    assert response.status_code == 400 and "unit" in response.json()["errors"]
    response = api_get(client, "supervision-items/", token, method="sell")
    assert response.status_code == 400 and "method" in response.json()["errors"]


def test_the_list_has_the_maintenance_links_for_the_office(client, w):
    client.force_login(w.office)
    body = client.get(reverse("items")).content.decode()
    for name in (
        "admin:supervision_calendarday_changelist",
        "admin:scoring_ruleversion_changelist",
        "admin:projects_nodetemplate_changelist",
    ):
        assert f'href="{reverse(name)}"' in body
    client.force_login(w.leader)
    assert "admin/" not in client.get(reverse("items")).content.decode()


def test_a_leader_sees_the_items_of_their_units_only(client, w):
    client.force_login(w.leader)
    assert listed(client.get(reverse("items"))) == [w.items["zipeng"].pk]
    assert listed(client.get(reverse("items"), {"status": ""})) == [
        w.items["closed"].pk,
        w.items["zipeng"].pk,
    ]
    client.force_login(w.principal)
    assert len(listed(client.get(reverse("items")))) == 3


def test_staff_are_refused_and_anonymous_sent_to_login(client, w):
    client.force_login(w.staff)
    assert client.get(reverse("items")).status_code == 403
    assert client.get(reverse("item", args=[w.items["taohua"].pk])).status_code == 403
    client.logout()
    response = client.get(reverse("items"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_list_costs_the_same_queries_for_one_row_or_forty(
    client, w, django_assert_max_num_queries
):
    # given
    client.force_login(w.office)
    client.get(reverse("items"))
    with django_assert_max_num_queries(LIST_QUERIES):
        client.get(reverse("items"))
    for seq in range(2, 42):
        node = NodeFactory(project=w.items["taohua"].node.project, seq=seq, unit=w.land)
        card_make(node, "yellow")
        item = item_make(card_make(node, "red"))
        InspectionRecord.objects.create(
            item=item,
            mode="online",
            inspected_on=dt.date(2026, 11, 28),
            text="催办",
            author=w.office,
        )
    # when
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("items"))
    # then
    assert len(listed(response)) == 43


# -- card lists -----------------------------------------------------------------------------


def cards_of(w, key: str, kind: str) -> Card:
    return Card.objects.get(node=w.items[key].node, kind=kind)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"kind": "red"},
            [("closed", "red"), ("park", "red"), ("zipeng", "red"), ("taohua", "red")],
        ),
        ({}, [("closed", "red"), ("park", "red"), ("zipeng", "red"), ("taohua", "red")]),
        ({"kind": "yellow", "locality": "桃花镇"}, [("closed", "yellow"), ("taohua", "yellow")]),
        ({"kind": "red", "unit": "县住建局"}, [("closed", "red"), ("zipeng", "red")]),
        ({"kind": "yellow", "method": "self_upgrade"}, [("zipeng", "yellow"), ("park", "yellow")]),
        ({"kind": "red", "overdue_min": "20"}, [("park", "red"), ("zipeng", "red")]),
        ({"kind": "red", "overdue_max": "9"}, [("closed", "red")]),
        ({"kind": "yellow", "revoked": "true"}, [("taohua", "yellow")]),
        (
            {"kind": "yellow", "revoked": "false"},
            [("closed", "yellow"), ("zipeng", "yellow"), ("park", "yellow")],
        ),
    ],
)
def test_card_lists_filter_exactly_and_the_api_agrees(client, w, query, expected):
    # given: the township's red card was revoked, so was its yellow one
    taohua_red = cards_of(w, "taohua", "red")
    card_mark_revoked(taohua_red, by=w.office)
    card_mark_revoked(cards_of(w, "taohua", "yellow"), by=w.office)
    client.force_login(w.office)
    token = api_token_create(user=w.office)
    want = [cards_of(w, key, kind).pk for key, kind in expected]
    # when
    page = client.get(reverse("cards"), query)
    api = api_get(client, "cards/", token, **{"kind": "red", **query})
    # then
    assert page.status_code == 200
    assert listed(page) == want
    assert [row["id"] for row in api.json()["results"]] == want


def test_a_card_row_shows_what_the_office_needs(client, w):
    # given
    zipeng = cards_of(w, "zipeng", "red")
    taohua = card_mark_revoked(cards_of(w, "taohua", "red"), by=w.office, reason="节点时间录入错误")
    client.force_login(w.office)
    # when
    body = client.get(reverse("cards"), {"kind": "red"}).content.decode()
    # then
    row = row_html(body, zipeng.pk)
    assert row_text(body, zipeng.pk) == (
        "红牌 FX-002 紫蓬镇项目2 紫蓬镇 1. 节点2 县住建局 11月2日（周一） "
        "11月22日（周日）00:00 11月22日（周日）00:00 扣2分 28 天 撤销"
    )
    assert f'href="{reverse("card-revoke", args=[zipeng.pk])}"' in row
    revoked = row_html(body, taohua.pk)
    assert "已撤销" in revoked and "孙丽" in revoked and "节点时间录入错误" in revoked
    assert reverse("card-revoke", args=[taohua.pk]) not in revoked


def test_card_lists_are_scoped_and_offer_no_revocation_to_leaders(client, w):
    client.force_login(w.leader)
    body = client.get(reverse("cards"), {"kind": "red"})
    assert listed(body) == [cards_of(w, "closed", "red").pk, cards_of(w, "zipeng", "red").pk]
    assert "/revoke/" not in body.content.decode()
    client.force_login(w.staff)  # staff read their own unit's cards, as through the API
    assert listed(client.get(reverse("cards"), {"kind": "yellow"})) == [
        cards_of(w, "taohua", "yellow").pk,
        cards_of(w, "park", "yellow").pk,
    ]


def test_card_list_query_count_is_fixed(client, w, django_assert_max_num_queries):
    client.force_login(w.office)
    client.get(reverse("cards"))
    with django_assert_max_num_queries(LIST_QUERIES):
        client.get(reverse("cards"))
    for seq in range(2, 32):
        node = NodeFactory(project=w.items["zipeng"].node.project, seq=seq, unit=w.housing)
        card_mark_revoked(card_make(node, "red"), by=w.office)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("cards"))
    assert len(listed(response)) == 34


# -- the item page --------------------------------------------------------------------------


def test_the_office_sees_the_item_with_its_timeline_and_forms(client, w):
    # given
    item = w.items["taohua"]
    InspectionRecord.objects.create(
        item=item,
        mode="online",
        inspected_on=dt.date(2026, 11, 25),
        text="电话催办",
        author=w.office,
    )
    InspectionRecord.objects.create(
        item=item,
        mode="offline",
        inspected_on=dt.date(2026, 11, 27),
        text="现场督查",
        author=w.office,
    )
    client.force_login(w.office)
    # when
    body = client.get(reverse("item", args=[item.pk])).content.decode()
    # then
    assert "FX-001 桃花镇项目1" in body and "县自然资源局" in body
    assert body.index("现场督查") < body.index("电话催办")  # newest first
    for url in ("item-inspect", "item-deadline", "item-close"):
        assert f'action="{reverse(url, args=[item.pk])}"' in body
    assert 'type="date"' in body


def test_a_leader_reads_the_item_without_forms_and_cannot_write(client, w):
    # given
    item = w.items["zipeng"]
    client.force_login(w.leader)
    before = snapshot(), list(InspectionRecord.objects.values_list("pk"))
    # when
    page = client.get(reverse("item", args=[item.pk]))
    posts = [
        client.post(
            reverse("item-inspect", args=[item.pk]),
            {"mode": "online", "inspected_on": "2026-11-30", "text": "x"},
        ),
        client.post(
            reverse("item-deadline", args=[item.pk]), {"supervised_deadline": "2026-12-09"}
        ),
        client.post(reverse("item-close", args=[item.pk]), {"note": "x"}),
    ]
    # then
    body = page.content.decode()
    assert page.status_code == 200
    assert "FX-002 紫蓬镇项目2" in body and "县住建局" in body
    for url in ("item-inspect", "item-deadline", "item-close"):
        assert reverse(url, args=[item.pk]) not in body
    assert [p.status_code for p in posts] == [403, 403, 403]
    assert (snapshot(), list(InspectionRecord.objects.values_list("pk"))) == before


def test_an_item_outside_a_leaders_units_is_404(client, w):
    client.force_login(w.leader)
    item = w.items["taohua"]
    before = snapshot()
    assert client.get(reverse("item", args=[item.pk])).status_code == 404
    assert client.post(reverse("item-close", args=[item.pk]), {"note": "x"}).status_code == 404
    assert snapshot() == before


def test_an_inspection_with_a_photo_is_stored_under_a_generated_name(client, w):
    # given
    item = w.items["taohua"]
    client.force_login(w.office)
    photo = SimpleUploadedFile("现场照片.png", png_bytes(), content_type="image/png")
    # when
    response = client.post(
        reverse("item-inspect", args=[item.pk]),
        {
            "mode": "offline",
            "inspected_on": "2026-11-30",
            "text": "现场督查：设备已清点",
            "files": [photo],
        },
    )
    # then
    assert response.status_code == 302 and response["Location"] == reverse("item", args=[item.pk])
    record = InspectionRecord.objects.get()
    assert (record.mode, record.inspected_on, record.text, record.author) == (
        "offline",
        dt.date(2026, 11, 30),
        "现场督查：设备已清点",
        w.office,
    )
    attachment = InspectionAttachment.objects.get()
    assert attachment.name == "现场照片.png"
    assert re.fullmatch(r"inspections/2026/11/[0-9a-f]{32}\.png", attachment.file.name)
    assert (Path(settings.MEDIA_ROOT) / attachment.file.name).read_bytes() == png_bytes()
    assert NodeEvent.objects.filter(node=item.node, kind="inspection").count() == 1
    page = client.get(reverse("item", args=[item.pk])).content.decode()
    url = reverse("attachment", args=["inspection", attachment.pk])
    assert f'<img src="{url}?inline=1"' in page and "已记录督查情况" in page
    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == png_bytes()


def test_an_inspection_file_is_downloaded_only_within_scope(client, w):
    item = w.items["zipeng"]
    client.force_login(w.office)
    client.post(
        reverse("item-inspect", args=[item.pk]),
        {
            "mode": "offline",
            "inspected_on": "2026-11-30",
            "text": "现场",
            "files": [SimpleUploadedFile("a.png", png_bytes())],
        },
    )
    url = reverse("attachment", args=["inspection", InspectionAttachment.objects.get().pk])
    client.force_login(w.leader)  # in charge of the unit
    assert client.get(url).status_code == 200
    client.force_login(make_user("leader", w.land))
    assert client.get(url).status_code == 404
    client.force_login(w.staff)  # another unit's staff: the node is not in their scope
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"inspected_on": "2026-12-01"}, "inspected_on", "督查日期不能晚于今天。"),
        (
            {"inspected_on": "0001-01-01"},
            "inspected_on",
            "日期须在 2000-01-01 至 2099-12-31 之间。",
        ),
        ({"text": "   "}, "text", "请填写督查情况。"),
        ({"mode": ""}, "mode", "请选择督查方式（线上或线下）。"),
        ({"exe": True}, "files", "不是可接受的文件类型"),
    ],
)
def test_a_refused_inspection_changes_nothing_and_keeps_the_input(client, w, data, field, message):
    # given
    item = w.items["taohua"]
    client.force_login(w.office)
    post = {"mode": "offline", "inspected_on": "2026-11-30", "text": "现场督查：留存原文"}
    files = [SimpleUploadedFile("现场照片.png", png_bytes())]
    if data.pop("exe", False):
        files.append(SimpleUploadedFile("照片.jpg", b"MZ\x90\x00\x03" + b"\x00" * 200))
    post.update(data)
    media = Path(settings.MEDIA_ROOT)
    before = snapshot(), InspectionRecord.objects.count(), InspectionAttachment.objects.count()
    # when
    response = client.post(reverse("item-inspect", args=[item.pk]), {**post, "files": files})
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert (
        snapshot(),
        InspectionRecord.objects.count(),
        InspectionAttachment.objects.count(),
    ) == before
    assert not list(media.rglob("*.*")) if media.exists() else True
    if field != "text":
        assert "现场督查：留存原文" in body


def test_the_supervised_deadline_is_set_then_cleared(client, w):
    item = w.items["taohua"]
    client.force_login(w.office)
    response = client.post(
        reverse("item-deadline", args=[item.pk]), {"supervised_deadline": "2026-12-09"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.supervised_deadline == dt.date(2026, 12, 9)
    body = client.get(reverse("item", args=[item.pk])).content.decode()
    assert "12月9日（周三）" in body and "还剩 7 个工作日" in body and "已设置督办期限" in body
    response = client.post(
        reverse("item-deadline", args=[item.pk]),
        {"supervised_deadline": "2026-12-09", "clear": "1"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.supervised_deadline is None
    # the unit reads both on its node's timeline
    assert list(
        NodeEvent.objects.filter(node=item.node, kind="item_deadline")
        .order_by("pk")
        .values_list("message", "data__deadline")
    ) == [("督办期限：12月9日（周三）前办结", "2026-12-09"), ("督办期限已取消", None)]


def test_a_deadline_in_the_past_is_refused_beside_the_field(client, w):
    item = w.items["taohua"]
    client.force_login(w.office)
    before = snapshot()
    response = client.post(
        reverse("item-deadline", args=[item.pk]), {"supervised_deadline": "2026-11-27"}
    )
    assert response.status_code == 200
    assert "督办期限不能早于今天。" in response.content.decode()
    assert 'value="2026-11-27"' in response.content.decode()
    item.refresh_from_db()
    assert item.supervised_deadline is None and snapshot() == before


def test_closing_needs_a_note_then_shows_who_closed_and_why(client, w):
    # given
    item = w.items["park"]
    client.force_login(w.office)
    before = snapshot()
    # when: no note
    refused = client.post(reverse("item-close", args=[item.pk]), {"note": "  "})
    # then
    assert refused.status_code == 200 and "请填写销号说明。" in refused.content.decode()
    assert snapshot() == before
    # when
    done = client.post(reverse("item-close", args=[item.pk]), {"note": "节点已办结，现场核实"})
    # then
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.close_note) == (
        "closed",
        w.office,
        "节点已办结，现场核实",
    )
    body = client.get(reverse("item", args=[item.pk])).content.decode()
    assert "孙丽 于 11月30日（周一）10:00 销号。" in body and "节点已办结，现场核实" in body
    for url in ("item-inspect", "item-deadline", "item-close"):
        assert reverse(url, args=[item.pk]) not in body


def test_writing_to_a_closed_item_says_so_and_changes_nothing(client, w):
    item = w.items["closed"]
    client.force_login(w.office)
    before = snapshot(), InspectionRecord.objects.count()
    response = client.post(
        reverse("item-inspect", args=[item.pk]),
        {"mode": "online", "inspected_on": "2026-11-30", "text": "催办"},
    )
    assert response.status_code == 200 and "该督办事项已销号。" in response.content.decode()
    assert (snapshot(), InspectionRecord.objects.count()) == before


# -- revoking a card ------------------------------------------------------------------------


def test_the_red_card_confirmation_says_exactly_what_it_restores(client, w):
    card = cards_of(w, "zipeng", "red")
    client.force_login(w.office)
    body = client.get(reverse("card-revoke", args=[card.pk])).content.decode()
    assert "撤销后将返还 县住建局 2分（计入2026年），关闭重点督办事项 FX-002-1 节点2。" in body


def test_the_yellow_card_confirmation_names_the_pending_recommitment(client, w):
    # given: a node with only a yellow card and a recommitment waiting
    node = NodeFactory(
        project=w.items["taohua"].node.project, seq=2, unit=w.land, due_date=dt.date(2026, 11, 26)
    )
    card = card_make(node, "yellow")
    recommitment_make(node, w.staff, submitted_at=NOW)
    client.force_login(w.office)
    # when
    body = client.get(reverse("card-revoke", args=[card.pk])).content.decode()
    # then
    assert "撤销后将返还 县自然资源局 1分（计入2026年），待审批的重新承诺将失效。" in body


def test_a_yellow_card_under_a_standing_red_card_cannot_be_revoked(client, w):
    card = cards_of(w, "zipeng", "yellow")
    red = cards_of(w, "zipeng", "red")
    client.force_login(w.office)
    before = snapshot()
    page = client.get(reverse("card-revoke", args=[card.pk])).content.decode()
    assert "黄牌不能单独撤销。请先撤销红牌。" in page and "确认撤销" not in page
    assert reverse("card-revoke", args=[red.pk]) in page
    posted = client.post(reverse("card-revoke", args=[card.pk]), {"reason": "误判"})
    assert "该节点还有红牌，请先撤销红牌。" in posted.content.decode()
    assert snapshot() == before


def test_revoking_a_red_card_restores_the_score_and_closes_the_item(client, w):
    # given
    card = cards_of(w, "zipeng", "red")
    client.force_login(w.office)

    def score():
        return next(s.score for s in unit_scores(2026) if s.unit_name == "县住建局")

    start = score()
    assert start == Decimal("94.00")  # 100, a yellow and a red card on each of two nodes
    # when
    response = client.post(reverse("card-revoke", args=[card.pk]), {"reason": "节点时间录入错误"})
    # then
    assert response.status_code == 302 and response["Location"] == reverse("cards") + "?kind=red"
    card.refresh_from_db()
    assert (card.revoked_by, card.revoke_reason) == (w.office, "节点时间录入错误")
    assert score() == Decimal("96.00")
    assert SupervisionItem.objects.get(card=card).status == "closed"
    page = client.get(response["Location"]).content.decode()
    assert "已撤销红牌，已返还 县住建局 2分。" in page


def test_revoking_twice_says_who_did_it_and_changes_nothing(client, w):
    # given: another member of the office revoked it a moment ago
    card = cards_of(w, "zipeng", "red")
    client.force_login(w.office)
    first = client.post(reverse("card-revoke", args=[card.pk]), {"reason": "节点时间录入错误"})
    assert first.status_code == 302
    before = snapshot()
    other = make_user("supervisor", username="dcb2")
    client.force_login(other)
    # when
    again = client.post(reverse("card-revoke", args=[card.pk]), {"reason": "再次撤销"})
    # then
    body = again.content.decode()
    assert again.status_code == 200
    assert (
        "该亮牌已由 孙丽 于 11月30日（周一）10:00 撤销（理由：节点时间录入错误），本次未作任何修改。"
        in body
    )
    assert snapshot() == before


def test_a_revocation_needs_a_reason(client, w):
    card = cards_of(w, "zipeng", "red")
    client.force_login(w.office)
    before = snapshot()
    response = client.post(reverse("card-revoke", args=[card.pk]), {"reason": ""})
    assert response.status_code == 200 and "请填写撤销理由。" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("who", ["leader", "principal", "staff"])
def test_only_the_office_revokes(client, w, who):
    card = cards_of(w, "zipeng", "red") if who != "staff" else cards_of(w, "taohua", "red")
    client.force_login(getattr(w, who))
    before = snapshot()
    assert client.get(reverse("card-revoke", args=[card.pk])).status_code == 403
    assert client.post(reverse("card-revoke", args=[card.pk]), {"reason": "x"}).status_code == 403
    assert snapshot() == before


def test_a_card_outside_a_leaders_scope_is_404(client, w):
    client.force_login(w.leader)
    before = snapshot()
    card = cards_of(w, "taohua", "red")
    assert client.post(reverse("card-revoke", args=[card.pk]), {"reason": "x"}).status_code == 404
    assert snapshot() == before
