"""A ledger file uploaded through the page, kept between its preview and its import.

The file is checked by its content (an .xlsx is a zip holding a workbook; a .csv is text),
stored under MEDIA_ROOT/ledger-uploads/ with a generated name, and remembered by that name
and its SHA-256. The import claims it by renaming it, so it runs once, on exactly the bytes
the preview showed.
"""

import hashlib
import io
import os
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.files import file_kind

from .parsing import MAX_FILE_BYTES, XLSX_UNZIPPED_MAX_BYTES

FOLDER = "ledger-uploads"
# The limits the command line applies too (ledger.parsing), checked here before a byte is stored.
MAX_BYTES = MAX_FILE_BYTES
UNZIPPED_MAX_BYTES = XLSX_UNZIPPED_MAX_BYTES
NAME = re.compile(rf"^{FOLDER}/[0-9a-f]{{32}}\.(xlsx|csv)$")


def ledger_file_kind(upload) -> str:
    """'xlsx' or 'csv', from what the file's bytes are; a ValidationError on `file` if neither."""
    name = (getattr(upload, "name", "") or "").lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in ("xlsx", "csv"):
        raise ValidationError({"file": [_("请上传 .xlsx 或 .csv 格式的台账文件。")]})
    if upload.size == 0:
        raise ValidationError({"file": [_("文件是空的。")]})
    if upload.size > MAX_BYTES:
        raise ValidationError(
            {
                "file": [
                    _("文件超过%(mb)sMB，台账文件不应这么大。") % {"mb": MAX_BYTES // 1024 // 1024}
                ]
            }
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError(
            {"file": [_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后上传。")]}
        )
    kind = _xlsx_or_csv(data, upload)
    if kind != extension:
        raise ValidationError(
            {"file": [_("文件内容与扩展名不符：这不是一个 .%(ext)s 文件。") % {"ext": extension}]}
        )
    return kind


def _xlsx_or_csv(data: bytes, upload) -> str | None:
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                entries = archive.infolist()
        except (zipfile.BadZipFile, ValueError):
            raise ValidationError({"file": [_("无法读取 Excel 文件，文件可能已损坏。")]}) from None
        if "xl/workbook.xml" not in {e.filename for e in entries}:
            return None
        if sum(e.file_size for e in entries) > UNZIPPED_MAX_BYTES:
            raise ValidationError({"file": [_("Excel 文件解压后过大，无法导入。")]})
        return "xlsx"
    if file_kind(upload) is not None or b"\x00" in data:
        return None  # a photo, a PDF, a program: bytes, not text
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "csv"
    return None


@dataclass(frozen=True)
class Pending:
    """An uploaded ledger waiting for its import: the stored name, its digest, what it was called."""

    name: str
    sha256: str
    original: str

    def as_session(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "original": self.original}

    @classmethod
    def from_session(cls, value) -> "Pending | None":
        if not isinstance(value, dict):
            return None
        name, digest = value.get("name"), value.get("sha256")
        if not (isinstance(name, str) and NAME.match(name) and isinstance(digest, str)):
            return None
        return cls(name=name, sha256=digest, original=str(value.get("original", ""))[:200])

    @property
    def path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.name


def pending_store(upload, kind: str) -> Pending:
    """Write the upload under a generated name (never the uploader's) and note its digest."""
    folder = Path(settings.MEDIA_ROOT) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{FOLDER}/{uuid.uuid4().hex}.{kind}"
    digest = hashlib.sha256()
    fd = os.open(Path(settings.MEDIA_ROOT) / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    return Pending(name=name, sha256=digest.hexdigest(), original=(upload.name or "")[:200])


class PendingGone(Exception):
    """The stored file is no longer there (imported, cancelled or removed)."""


class PendingChanged(Exception):
    """The stored file's bytes are not those the preview read."""


def pending_digest_matches(pending: Pending) -> bool:
    try:
        return hashlib.sha256(pending.path.read_bytes()).hexdigest() == pending.sha256
    except OSError:
        return False


def pending_claim(pending: Pending) -> Path:
    """Take the stored file for the import: renamed first, so a second request finds nothing;
    then its digest checked against the preview's."""
    claimed = pending.path.with_name(pending.path.name + f".{uuid.uuid4().hex}.importing")
    try:
        os.rename(pending.path, claimed)
    except FileNotFoundError:
        raise PendingGone from None
    if hashlib.sha256(claimed.read_bytes()).hexdigest() != pending.sha256:
        claimed.unlink(missing_ok=True)
        raise PendingChanged
    return claimed


def pending_discard(pending: Pending | None) -> None:
    if pending is not None:
        pending.path.unlink(missing_ok=True)
