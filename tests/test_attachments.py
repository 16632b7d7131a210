"""Evidence files: checked on the way in (pages, API multipart, services), downloaded only
by people whose scope covers the node, as attachments."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import Node, ProgressAttachment, ProgressReport
from projects.services import node_progress_report
from supervision.models import InspectionAttachment, InspectionRecord
from supervision.services import node_complete
from tests.test_api_support import NOW, card_make, item_make, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]  # the world and frozen fixtures

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def photo(world) -> ProgressAttachment:
    report = node_progress_report(
        node=world.node,
        actor=world.users["staff"],
        percent=30,
        files=[upload("现场照片 1.png", PNG, "image/png")],
    )
    return report.attachments.get()


@pytest.fixture
def minutes(world) -> ProgressAttachment:
    report = node_progress_report(
        node=world.node, actor=world.users["staff"], percent=40, files=[upload("纪要.pdf", PDF)]
    )
    return report.attachments.get()


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# ---------------------------------------------------------------- downloads


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("staff", 200),
        ("leader", 200),
        ("principal", 200),
        ("supervisor", 200),
        ("staff_other", 404),
        ("leader_other", 404),
    ],
)
def test_a_progress_attachment_is_downloaded_only_within_scope(client, world, photo, role, status):
    # given
    client.force_login(world.users[role])
    # when
    response = client.get(reverse("attachment", args=["progress", photo.pk]))
    # then
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == (
            "attachment; filename*=utf-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87%201.png"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert streamed(response) == PNG


def test_a_download_asks_an_anonymous_visitor_to_sign_in(client, photo):
    response = client.get(reverse("attachment", args=["progress", photo.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_unknown_kinds_and_ids_are_not_found(client, world, photo):
    client.force_login(world.users["supervisor"])
    assert client.get(reverse("attachment", args=["avatar", photo.pk])).status_code == 404
    assert client.get(reverse("attachment", args=["progress", photo.pk + 99])).status_code == 404


def test_a_photo_may_be_shown_inline_for_its_thumbnail(client, world, photo):
    client.force_login(world.users["staff"])
    response = client.get(reverse("attachment", args=["progress", photo.pk]) + "?inline=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_document_is_never_shown_inline(client, world, minutes):
    client.force_login(world.users["staff"])
    response = client.get(reverse("attachment", args=["progress", minutes.pk]) + "?inline=1")
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E7%BA%AA%E8%A6%81.pdf"
    )
    assert response["Content-Type"] == "application/pdf"


def test_a_download_is_named_for_what_its_content_is_and_not_kept_in_the_cache(client, world):
    """A file accepted as a PNG is offered as .png whatever its name said, and no download
    stays in the browser's cache of a shared office computer."""
    # given
    report = node_progress_report(
        node=world.node,
        actor=world.users["staff"],
        percent=30,
        files=[upload("示意图.svg", PNG, "image/svg+xml")],
    )
    attachment = report.attachments.get()
    client.force_login(world.users["staff"])
    # when
    response = client.get(reverse("attachment", args=["progress", attachment.pk]))
    # then
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E7%A4%BA%E6%84%8F%E5%9B%BE.png"
    )
    assert (response["Content-Type"], response["Cache-Control"]) == (
        "image/png",
        "private, no-store",
    )


def test_files_are_stored_under_generated_names_outside_the_static_root(world, photo, settings):
    assert photo.name == "现场照片 1.png"
    assert photo.file.name.startswith("progress/2026/11/") and photo.file.name.endswith(".png")
    assert "现场" not in photo.file.name
    assert str(settings.MEDIA_ROOT) in photo.file.path
    assert not photo.file.path.startswith(str(settings.STATIC_ROOT))


def test_an_inspection_attachment_is_downloaded_only_within_scope(client, world):
    # given: an inspection with a photo on the priority item of the world's node
    item = item_make(card_make(world.node, "red"))
    record = InspectionRecord.objects.create(
        item=item,
        mode="offline",
        inspected_on=dt.date(2026, 11, 23),
        text="现场查看",
        author=world.users["supervisor"],
    )
    att = InspectionAttachment.objects.create(
        record=record, file=upload("督查.png", PNG, "image/png"), name="督查.png"
    )
    url = reverse("attachment", args=["inspection", att.pk])
    # then
    for role, status in [("staff", 200), ("leader", 200), ("staff_other", 404)]:
        client.force_login(world.users[role])
        response = client.get(url)
        assert response.status_code == status, role
        if status == 200:
            assert response["Content-Disposition"] == (
                "attachment; filename*=utf-8''%E7%9D%A3%E6%9F%A5.png"
            )
            assert streamed(response) == PNG


# ---------------------------------------------------------------- services


def test_the_progress_service_refuses_every_bad_file_at_once_and_saves_nothing(world, settings):
    # given
    settings.NODETRACK_UPLOAD_MAX_MB = 1
    before = snapshot()
    # when
    with pytest.raises(ValidationError) as error:
        node_progress_report(
            node=world.node,
            actor=world.users["staff"],
            percent=101,
            files=[
                upload("好.png", PNG),
                upload("病毒.jpg", EXE),
                upload("大.pdf", PDF + b"0" * (1024 * 1024)),
            ],
        )
    # then
    assert error.value.message_dict == {
        "percent": ["进度须为0到100之间的整数。"],
        "files": [
            "“病毒.jpg”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。",
            "“大.pdf”超过1MB，请压缩后再上传。",
        ],
    }
    assert snapshot() == before
    assert media_files(settings) == []


def test_the_completion_service_refuses_a_bad_file_and_completes_nothing(world, settings):
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        node_complete(node=world.node, actor=world.users["staff"], files=[upload("a.jpg", EXE)])
    assert error.value.message_dict == {
        "files": ["“a.jpg”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。"]
    }
    assert snapshot() == before
    assert Node.objects.get(pk=world.node.pk).completed_at is None


# ---------------------------------------------------------------- API: multipart/form-data


def api_multipart(client, path, token, data):
    return client.post(f"/api/v1/{path}", data, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_api_progress_takes_multipart_with_files(client, world, settings):
    # when
    response = api_multipart(
        client,
        f"nodes/{world.node.pk}/progress/",
        world.token("staff"),
        {
            "percent": "55",
            "note": "附现场照片",
            "files": [upload("现场.png", PNG), upload("表.pdf", PDF)],
        },
    )
    # then
    assert response.status_code == 201
    report = ProgressReport.objects.get()
    assert response.json() == {
        "id": report.pk,
        "node": world.node.pk,
        "percent": 55,
        "note": "附现场照片",
        "created_at": "2026-11-23T10:00:00+08:00",
    }
    assert sorted(report.attachments.values_list("name", flat=True)) == ["现场.png", "表.pdf"]
    assert len(media_files(settings)) == 2


@pytest.mark.parametrize(
    ("data", "errors", "detail"),
    [
        ({"note": "x"}, {"percent": ["该字段为必填项。"]}, "请求参数有误。"),
        ({"percent": "五十"}, {"percent": ["请填写整数。"]}, "请求参数有误。"),
        ({"percent": "50.5"}, {"percent": ["请填写整数。"]}, "请求参数有误。"),
        ({"percent": "101"}, {"percent": ["进度须为0到100之间的整数。"]}, None),
        ({"percent": "5", "note": "a\x00b"}, {"note": ["不能包含空字符。"]}, None),
        (
            {"percent": "50", "files": [upload("照片.jpg", EXE)]},
            {"files": ["“照片.jpg”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。"]},
            None,
        ),
    ],
)
def test_api_progress_multipart_bad_input_is_400_and_changes_nothing(
    client, world, settings, data, errors, detail
):
    # given
    before = snapshot()
    # when
    response = api_multipart(client, f"nodes/{world.node.pk}/progress/", world.token("staff"), data)
    # then
    assert response.status_code == 400
    messages = [m for msgs in errors.values() for m in msgs]
    assert response.json() == {"detail": detail or "；".join(messages), "errors": errors}
    assert snapshot() == before
    assert media_files(settings) == []


def test_api_progress_multipart_refuses_a_file_too_large(client, world, settings):
    settings.NODETRACK_UPLOAD_MAX_MB = 1
    before = snapshot()
    response = api_multipart(
        client,
        f"nodes/{world.node.pk}/progress/",
        world.token("staff"),
        {"percent": "50", "files": [upload("大.png", PNG + b"\x00" * (1024 * 1024 + 1))]},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"files": ["“大.png”超过1MB，请压缩后再上传。"]}
    assert snapshot() == before
    assert media_files(settings) == []


def test_api_progress_multipart_is_scoped_like_json(client, world):
    before = snapshot()
    other = api_multipart(
        client, f"nodes/{world.node.pk}/progress/", world.token("staff_other"), {"percent": "5"}
    )
    leader = api_multipart(
        client, f"nodes/{world.node.pk}/progress/", world.token("leader"), {"percent": "5"}
    )
    assert (other.status_code, leader.status_code) == (404, 403)
    assert snapshot() == before


def test_api_progress_json_is_read_as_before(client, world):
    """A form-looking string in JSON stays an error: only multipart fields arrive as text."""
    response = client.post(
        f"/api/v1/nodes/{world.node.pk}/progress/",
        json.dumps({"percent": "50"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.token('staff')}",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"percent": ["请填写整数。"]}


def test_api_complete_takes_multipart_with_evidence(client, world):
    response = api_multipart(
        client,
        f"nodes/{world.node.pk}/complete/",
        world.token("staff"),
        {"note": "已签订", "files": [upload("协议.pdf", PDF)]},
    )
    assert response.status_code == 200
    assert response.json()["completed_at"] == "2026-11-23T10:00:00+08:00"
    report = ProgressReport.objects.get()
    assert (report.note, report.is_completion) == ("已签订", True)
    assert list(report.attachments.values_list("name", flat=True)) == ["协议.pdf"]
    assert Node.objects.get(pk=world.node.pk).completed_at == NOW


def test_api_complete_multipart_with_files_only_is_fine(client, world):
    response = api_multipart(
        client,
        f"nodes/{world.node.pk}/complete/",
        world.token("staff"),
        {"files": [upload("a.png", PNG)]},
    )
    assert response.status_code == 200
    assert ProgressReport.objects.get().note == ""


def test_api_complete_multipart_with_a_bad_file_is_400_and_completes_nothing(client, world):
    before = snapshot()
    response = api_multipart(
        client,
        f"nodes/{world.node.pk}/complete/",
        world.token("staff"),
        {"note": "已签订", "files": [upload("协议.docx", EXE)]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "“协议.docx”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。",
        "errors": {
            "files": ["“协议.docx”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。"]
        },
    }
    assert snapshot() == before


def test_the_api_documents_both_bodies(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/nodes/{node_id}/progress/",
        "/api/v1/nodes/{node_id}/complete/",
        "/api/v1/supervision-items/{item_id}/inspections/",
    ):
        content = schema["paths"][path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/json", "multipart/form-data"}
        files = content["multipart/form-data"]["schema"]["allOf"][1]["properties"]["files"]
        assert files["items"] == {"type": "string", "format": "binary"}


def test_api_inspection_takes_multipart_with_photos(client, world):
    # given
    item = item_make(card_make(world.node, "red"))
    # when
    response = api_multipart(
        client,
        f"supervision-items/{item.pk}/inspections/",
        world.token("supervisor"),
        {
            "mode": "offline",
            "inspected_on": "2026-11-23",
            "text": "现场查看，拆除已过半",
            "files": [upload("现场.png", PNG)],
        },
    )
    # then
    assert response.status_code == 201
    record = InspectionRecord.objects.get()
    assert (record.mode, record.inspected_on, record.text) == (
        "offline",
        dt.date(2026, 11, 23),
        "现场查看，拆除已过半",
    )
    assert list(record.attachments.values_list("name", flat=True)) == ["现场.png"]


def test_api_inspection_with_a_bad_file_is_400_and_records_nothing(client, world, settings):
    item = item_make(card_make(world.node, "red"))
    before = snapshot()
    response = api_multipart(
        client,
        f"supervision-items/{item.pk}/inspections/",
        world.token("supervisor"),
        {
            "mode": "online",
            "inspected_on": "2026-11-23",
            "text": "电话督促",
            "files": [upload("照片.jpg", EXE)],
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "files": ["“照片.jpg”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。"]
    }
    assert snapshot() == before
    assert InspectionRecord.objects.count() == 0
    assert media_files(settings) == []
