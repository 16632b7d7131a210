"""Excel and CSV of the priority supervision list and the card lists: the page's rows, filtered
and scoped as the page, formulas neutralised, in a fixed number of queries."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from core.clock import local_tz
from projects.models import Project
from supervision.exports import CARD_HEADER, ITEM_HEADER
from supervision.models import InspectionRecord
from tests.factories import NodeFactory
from tests.test_api_support import card_make, card_mark_revoked, item_make
from tests.test_pages_office import World, cards_of, frozen  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return World()


def download(client, name: str, fmt: str, **query) -> list[list]:
    """The rows of the downloaded file, the header first."""
    response = client.get(reverse(name), {"format": fmt, **query})
    assert response.status_code == 200, response.content[:200]
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert content.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_the_priority_list_export_has_the_pages_rows_and_columns(client, w):
    # given: an inspection and a supervised deadline on the township's item
    taohua = w.items["taohua"]
    InspectionRecord.objects.create(
        item=taohua,
        mode="offline",
        inspected_on=dt.date(2026, 11, 28),
        text="现场督查",
        author=w.office,
    )
    taohua.supervised_deadline = dt.date(2026, 12, 7)
    taohua.save()
    client.force_login(w.office)
    # when
    rows = download(client, "items-export", "csv")
    xlsx = download(client, "items-export", "xlsx")
    # then: open items only (the page's default), newest first, as the page lists them
    assert rows[0] == list(ITEM_HEADER)
    assert [row[0] for row in rows[1:]] == ["FX-003", "FX-002", "FX-001"]
    assert rows[3] == [
        "FX-001",
        "桃花镇项目1",
        "园区转型升级",
        "桃花镇",
        "1",
        "节点1",
        "县自然资源局",
        "2026-11-21",
        "10",
        "2026-12-07",
        "2026-11-28",
        "线下",
        "现场督查",
        "督办中",
    ]
    assert rows[1][-1] == "节点已办结，可销号"
    assert xlsx[0] == list(ITEM_HEADER)
    assert xlsx[3][7:11] == [
        dt.datetime(2026, 11, 21),
        10,
        dt.datetime(2026, 12, 7),
        dt.datetime(2026, 11, 28),
    ]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ({"locality": "桃花镇"}, ["FX-001"]),
        ({"status": ""}, ["FX-004", "FX-003", "FX-002", "FX-001"]),
        ({"status": "closed"}, ["FX-004"]),
        ({"method": "self_upgrade", "overdue_min": "30"}, ["FX-003"]),
        ({"work_stream": "land", "unit": "县住建局"}, ["FX-002"]),
    ],
)
def test_the_priority_list_export_is_filtered_as_the_page(client, w, query, codes):
    client.force_login(w.office)
    for fmt in ("csv", "xlsx"):
        assert [row[0] for row in download(client, "items-export", fmt, **query)[1:]] == codes


def test_leaders_export_their_items_and_staff_are_refused(client, w):
    client.force_login(w.leader)
    assert [row[0] for row in download(client, "items-export", "csv", status="")[1:]] == [
        "FX-004",
        "FX-002",
    ]
    client.force_login(w.staff)
    assert client.get(reverse("items-export"), {"format": "csv"}).status_code == 403


def test_the_card_list_export_has_the_pages_rows_and_columns(client, w):
    # given
    taohua = card_mark_revoked(cards_of(w, "taohua", "red"), by=w.office, reason="节点时间录入错误")
    client.force_login(w.office)
    # when
    rows = download(client, "cards-export", "csv")
    # then: the red cards (the page's default), newest breach first
    assert rows[0] == list(CARD_HEADER)
    assert [row[1] for row in rows[1:]] == ["FX-004", "FX-003", "FX-002", "FX-001"]
    assert rows[3] == [
        "红牌",
        "FX-002",
        "紫蓬镇项目2",
        "园区转型升级",
        "紫蓬镇",
        "1",
        "节点2",
        "县住建局",
        "2026-11-02",
        "2026-11-22 00:00",
        "2026-11-22 00:00",
        "2.00",
        "28",
        "",
        "",
        "",
    ]
    assert rows[4][-3:] == [
        f"{taohua.revoked_at.astimezone(local_tz()):%Y-%m-%d %H:%M}",
        "孙丽",
        "节点时间录入错误",
    ]
    xlsx = download(client, "cards-export", "xlsx")
    assert xlsx[3][8] == dt.datetime(2026, 11, 2)
    assert xlsx[3][11] == 2


def test_the_card_list_export_is_filtered_and_scoped_as_the_page(client, w):
    client.force_login(w.office)
    yellow = download(client, "cards-export", "csv", kind="yellow", locality="桃花镇")
    assert [(row[0], row[1]) for row in yellow[1:]] == [("黄牌", "FX-004"), ("黄牌", "FX-001")]
    client.force_login(w.staff)  # staff read their own unit's cards
    assert [row[1] for row in download(client, "cards-export", "csv", kind="yellow")[1:]] == [
        "FX-001",
        "FX-003",
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_text_that_would_be_a_formula_is_neutralised(client, w, fmt):
    # given
    Project.objects.filter(code="FX-001").update(name='=HYPERLINK("http://x","点我")')
    node = w.items["taohua"].node
    node.name = "-1+2"
    node.save()
    client.force_login(w.office)
    # when
    items = download(client, "items-export", fmt, locality="桃花镇")
    cards = download(client, "cards-export", fmt, locality="桃花镇")
    # then
    assert items[1][1] == '\'=HYPERLINK("http://x","点我")'
    assert items[1][5] == "'-1+2"
    assert cards[2][2] == '\'=HYPERLINK("http://x","点我")'


def test_a_bad_format_or_filter_answers_400(client, w):
    client.force_login(w.office)
    assert client.get(reverse("items-export"), {"format": "pdf"}).status_code == 400
    assert client.get(reverse("cards-export"), {"format": "csv", "unit": "nope"}).status_code == 400


def test_the_pages_link_their_exports_with_the_current_filters(client, w):
    client.force_login(w.office)
    body = client.get(reverse("items"), {"locality": "桃花镇", "page": "1"}).content.decode()
    assert (
        f'href="{reverse("items-export")}?locality=%E6%A1%83%E8%8A%B1%E9%95%87&amp;format=xlsx"'
        in body
    )
    assert (
        f'href="{reverse("items-export")}?locality=%E6%A1%83%E8%8A%B1%E9%95%87&amp;format=csv"'
        in body
    )
    body = client.get(reverse("cards"), {"kind": "yellow"}).content.decode()
    assert f'href="{reverse("cards-export")}?kind=yellow&amp;format=csv"' in body


# Session, user, roles, then the list in one query (its subqueries inside).
EXPORT_QUERIES = 4


@pytest.mark.parametrize("name", ["items-export", "cards-export"])
def test_an_export_costs_the_same_queries_for_four_rows_or_forty(
    client, w, django_assert_max_num_queries, name
):
    # given
    client.force_login(w.office)
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(EXPORT_QUERIES):
            assert len(download(client, name, fmt, status="")) == 5
    for seq in range(2, 38):
        node = NodeFactory(project=w.items["taohua"].node.project, seq=seq, unit=w.land)
        item = item_make(card_make(node, "red"))
        InspectionRecord.objects.create(
            item=item,
            mode="online",
            inspected_on=dt.date(2026, 11, 28),
            text="催办",
            author=w.office,
        )
    # when / then
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(EXPORT_QUERIES):
            assert len(download(client, name, fmt, status="")) == 41
