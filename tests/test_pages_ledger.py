"""The ledger upload page: a dry run first, then an import of exactly the previewed file, once."""

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from organization.models import Unit
from projects.models import DisposalLine, Enterprise, Node, NodeEvent, Project
from tests.factories import UnitFactory, make_user

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HEADER = [
    "项目编号",
    "项目名称",
    "乡镇园区",
    "企业名称",
    "处置方式",
    "面积(亩)",
    "节点序号",
    "节点名称",
    "责任单位",
    "计划完成日期",
    "完成日期",
    "责任人",
    "包保领导",
]
ROWS = [
    [
        "FX-101",
        "某机械厂低效用地收储",
        "三河镇",
        "合肥某机械有限公司",
        "收储收回",
        "56.30",
        "1",
        "完成土地测绘",
        "县自然资源局",
        "2026-12-10",
        "",
        "李明",
        "",
    ],
    [
        "FX-101",
        "某机械厂低效用地收储",
        "三河镇",
        "合肥某机械有限公司",
        "收储收回",
        "56.30",
        "2",
        "签订收储协议",
        "三河镇",
        "2027-01-20",
        "",
        "",
        "",
    ],
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def office(client):
    user = make_user("supervisor", username="dcb")
    client.force_login(user)
    return user


def csv_file(rows=ROWS, name="台账.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8-sig"), content_type="text/csv")


def xlsx_file(rows=ROWS, name="台账.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["肥西县低效用地处置台账"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def world() -> tuple:
    """Everything an import could write."""
    return (
        list(Project.objects.order_by("pk").values_list("code", "name")),
        list(Node.objects.order_by("pk").values_list("project__code", "seq", "name", "due_date")),
        list(Unit.objects.order_by("pk").values_list("name")),
        Enterprise.objects.count(),
        DisposalLine.objects.count(),
        NodeEvent.objects.count(),
        Project.history.count(),
        Node.history.count(),
    )


def stored() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "ledger-uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("make", [csv_file, xlsx_file])
def test_the_preview_of_a_good_file_writes_nothing_and_keeps_the_file(client, office, make):
    # given
    UnitFactory(name="县自然资源局")
    before = world()
    # when
    response = client.post(reverse("ledger-upload"), {"file": make()})
    # then
    assert response.status_code == 302 and response["Location"] == reverse("ledger-upload")
    page = client.get(response["Location"])
    body = text(page)
    assert "试运行：校验通过，以下是将要导入的内容，数据库未作任何修改。" in body
    assert "项目 1 0 0" in body and "节点 2 0 0" in body
    assert "新建项目（1） FX-101" in body
    assert "新建节点（2） FX-101-1 FX-101-2" in body
    assert "新建责任单位（1） 三河镇" in body and "新建企业（1） 合肥某机械有限公司" in body
    assert "确认导入" in body
    assert world() == before
    (path,) = stored()
    assert re.fullmatch(r"[0-9a-f]{32}\.(csv|xlsx)", path.name)
    pending = client.session["ledger_upload"]
    assert pending["name"] == f"ledger-uploads/{path.name}"
    assert len(pending["sha256"]) == 64 and pending["original"] == make().name


def test_confirm_imports_exactly_once_and_removes_the_file(client, office):
    # given
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    # when
    response = client.post(reverse("ledger-confirm"))
    # then
    assert response.status_code == 302
    assert list(Project.objects.values_list("code", flat=True)) == ["FX-101"]
    assert list(Node.objects.order_by("seq").values_list("seq", "name", "unit__name")) == [
        (1, "完成土地测绘", "县自然资源局"),
        (2, "签订收储协议", "三河镇"),
    ]
    assert stored() == []
    body = text(client.get(response["Location"]))
    assert "台账导入完成。" in body and "已导入“台账.csv”" in body and "项目 1 0 0" in body
    # when: the button is pressed again
    after = world()
    again = client.post(reverse("ledger-confirm"))
    # then
    assert again.status_code == 302
    assert "没有待导入的文件，请重新上传。" in text(client.get(again["Location"]))
    assert world() == after


def test_a_second_import_of_the_same_file_changes_nothing(client, office):
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    client.post(reverse("ledger-confirm"))
    after = world()
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    body = text(client.get(reverse("ledger-upload")))
    assert "项目 0 0 1" in body and "节点 0 0 2" in body
    assert world() == after


def test_a_bad_file_lists_every_error_by_row_and_writes_nothing(client, office):
    # given: a bad date on row 2, an unknown method and an empty node name on row 3
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[0][9] = "2026-13-40"
    rows[1][4] = "出售"
    rows[1][7] = ""
    before = world()
    # when
    response = client.post(reverse("ledger-upload"), {"file": csv_file(rows)})
    # then
    assert response.status_code == 200
    body = text(response)
    errors = re.findall(r"第\d+行 [^：]+：[^<]+?(?= 第\d+行| </ol>|$)", body)
    assert "“台账.csv”有 3 处问题，未导入任何内容" in body
    assert [e.split("：")[0] for e in errors] == [
        "第2行 计划完成日期",
        "第3行 处置方式",
        "第3行 节点名称",
    ]
    assert world() == before
    assert stored() == [] and "ledger_upload" not in client.session


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("台账.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
            "文件内容与扩展名不符",
        ),
        (
            SimpleUploadedFile("台账.xlsx", b"MZ\x90\x00\x03" + b"\x00" * 200),
            "文件内容与扩展名不符",
        ),
        (SimpleUploadedFile("台账.xlsx", b"PK\x03\x04garbage"), "无法读取 Excel 文件"),
        (
            SimpleUploadedFile("台账.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 64),
            "请上传 .xlsx 或 .csv",
        ),
        (
            SimpleUploadedFile("台账.csv", b"\xd0\xcf\x11\xe0" + b"\x00" * 64),
            "不支持旧版 .xls 文件",
        ),
        (SimpleUploadedFile("台账.exe", b"MZ"), "请上传 .xlsx 或 .csv"),
        (SimpleUploadedFile("台账.csv", b""), "文件是空的"),
    ],
)
def test_a_file_that_is_not_a_ledger_is_refused_before_it_is_stored(
    client, office, upload, message
):
    before = world()
    response = client.post(reverse("ledger-upload"), {"file": upload})
    assert response.status_code == 200 and message in response.content.decode()
    assert world() == before and stored() == []


def test_a_file_too_large_is_refused(client, office, monkeypatch):
    monkeypatch.setattr("ledger.uploads.MAX_BYTES", 1024 * 1024)
    big = SimpleUploadedFile("台账.csv", b"a" * (1024 * 1024 + 1))
    response = client.post(reverse("ledger-upload"), {"file": big})
    assert "文件超过1MB，台账文件不应这么大。" in response.content.decode()
    assert stored() == []


def test_a_file_changed_after_its_preview_is_refused(client, office):
    # given
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    (path,) = stored()
    rows = [list(ROWS[0])]
    rows[0][7] = "被篡改的节点"
    path.write_bytes(csv_file(rows).read())
    before = world()
    # when
    response = client.post(reverse("ledger-confirm"))
    # then
    assert "文件在预览后被改动过，已拒绝导入，请重新上传。" in text(
        client.get(response["Location"])
    )
    assert world() == before and stored() == []


def test_a_file_gone_after_its_preview_is_refused(client, office):
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    (path,) = stored()
    path.unlink()
    before = world()
    response = client.post(reverse("ledger-confirm"))
    assert "上传的文件已不存在" in text(client.get(response["Location"]))
    assert world() == before


def test_a_session_naming_another_path_is_not_followed(client, office, tmp_path):
    # given: a session that names a file outside the upload folder
    outside = Path(settings.MEDIA_ROOT).parent / "secret.csv"
    outside.write_bytes(csv_file().read())
    session = client.session
    session["ledger_upload"] = {"name": "../secret.csv", "sha256": "0" * 64, "original": "x"}
    session.save()
    before = world()
    # when
    response = client.post(reverse("ledger-confirm"))
    # then
    assert "没有待导入的文件" in text(client.get(response["Location"]))
    assert world() == before and outside.exists()


def test_cancel_removes_the_waiting_file(client, office):
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    assert len(stored()) == 1
    response = client.post(reverse("ledger-cancel"))
    assert response.status_code == 302 and stored() == []
    assert "ledger_upload" not in client.session
    assert Project.objects.count() == 0


def test_a_new_upload_replaces_the_waiting_one(client, office):
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    client.post(reverse("ledger-upload"), {"file": xlsx_file()})
    (path,) = stored()
    assert path.suffix == ".xlsx"


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_only_the_office_imports(client, role):
    unit = UnitFactory(name="县自然资源局")
    client.force_login(make_user(role, unit))
    before = world()
    assert client.get(reverse("ledger-upload")).status_code == 403
    assert client.post(reverse("ledger-upload"), {"file": csv_file()}).status_code == 403
    assert client.post(reverse("ledger-confirm")).status_code == 403
    assert world() == before and stored() == []


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("ledger-upload"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
