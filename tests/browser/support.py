"""What the journeys build: people who can sign in, real pictures, dates around today.

The live server reads the real clock, so every date here is worked out from
core.clock.today() / now() at the time the test runs, never written in.
"""

import datetime as dt
import struct
import zlib

from core import clock
from organization.models import Unit, User
from supervision import rules
from supervision.calendar import WorkingCalendar
from tests.browser.conftest import PASSWORD
from tests.factories import make_user


def person(role: str, *units: Unit, username: str, full_name: str) -> User:
    """A user holding one role who signs in with the journeys' password."""
    user = make_user(role, *units, username=username)
    user.full_name = full_name
    user.set_password(PASSWORD)
    user.save()
    return user


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (7, 193, 96)) -> bytes:
    """A real PNG picture of one colour: signature, IHDR, IDAT (zlib), IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def upload(name: str, data: bytes, mime: str) -> dict:
    """A file for page.set_input_files, made in memory."""
    return {"name": name, "mimeType": mime, "buffer": data}


def grace_deadline(issued_on: dt.date, workdays: int = 3) -> dt.date:
    """The last day of "N个工作日内" after a yellow card issued on `issued_on` (domain rule 3),
    on the calendar the app uses (the office's entries over the packaged holidays)."""
    return rules.grace_deadline(issued_on, workdays, WorkingCalendar.load().is_workday)


def days_ago(n: int) -> dt.date:
    return clock.today() - dt.timedelta(days=n)


def days_ahead(n: int) -> dt.date:
    return clock.today() + dt.timedelta(days=n)
