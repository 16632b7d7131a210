"""Uploaded evidence files: a size limit, a type checked by content, and a generated name.

What a file claims to be (its name, its Content-Type) is not trusted: the first bytes
decide. Accepted are photos, PDF and Office documents; anything else is refused in Chinese.
"""

import uuid

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

from core import clock

ALLOWED = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
NAME_MAX = 200


def upload_max_bytes() -> int:
    return settings.NODETRACK_UPLOAD_MAX_MB * 1024 * 1024


def file_kind(upload) -> str | None:
    """The extension of what the file's bytes say it is, if it is an accepted kind."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        head = upload.read(8192)
    finally:
        upload.seek(position)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in ALLOWED:
        return None
    return kind.extension


def uploads_clean(files, *, field: str = "files", max_count: int = 10) -> list:
    """The uploads, each checked for size and content type; a ValidationError on `field` names
    every refused file. Each accepted upload gets `.detected_extension` for its stored name."""
    files = [f for f in (files or []) if f]
    errors = []
    if len(files) > max_count:
        errors.append(_("一次最多上传%(n)s个附件。") % {"n": max_count})
    limit = upload_max_bytes()
    for upload in files:
        name = (getattr(upload, "name", "") or _("未命名文件"))[:NAME_MAX]
        if upload.size > limit:
            errors.append(
                _("“%(name)s”超过%(mb)sMB，请压缩后再上传。")
                % {"name": name, "mb": settings.NODETRACK_UPLOAD_MAX_MB}
            )
            continue
        if upload.size == 0:
            errors.append(_("“%(name)s”是空文件。") % {"name": name})
            continue
        kind = file_kind(upload)
        if kind is None:
            errors.append(
                _("“%(name)s”不是可接受的文件类型（照片、PDF、Word、Excel、PowerPoint）。")
                % {"name": name}
            )
            continue
        upload.detected_extension = kind
    if errors:
        raise ValidationError({field: errors})
    return files


@deconstructible
class GeneratedName:
    """upload_to that stores a file under `<prefix>/<year>/<month>/<random>.<ext>`, never its own name."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, instance, filename: str) -> str:
        stored = getattr(instance, "file", None)
        ext = getattr(stored, "detected_extension", None) or getattr(
            getattr(stored, "file", None), "detected_extension", None
        )
        if ext is None:
            ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
            ext = ext if ext in ALLOWED else "bin"
        today = clock.today()
        return f"{self.prefix}/{today:%Y/%m}/{uuid.uuid4().hex}.{ext}"

    def __eq__(self, other) -> bool:
        return isinstance(other, GeneratedName) and other.prefix == self.prefix
