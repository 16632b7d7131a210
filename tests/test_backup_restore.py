"""Backup and restore on SQLite: a restored copy holds the same cards and scores."""

import datetime as dt
import sqlite3
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from scoring.choices import EntryKind
from scoring.models import PointsEntry, RuleVersion
from scoring.selectors import unit_scores
from supervision.models import Card
from tests.factories import NodeFactory, UnitFactory
from tests.test_api_support import card_make

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's backup API")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture
def carded():
    """Two units with a yellow and a red card each, and a bonus for one."""
    if not RuleVersion.objects.exists():  # a flush by an earlier live-server test removed it
        RuleVersion.objects.create(effective_from=dt.date(2020, 1, 1))
    roads, water = UnitFactory(name="县交通运输局"), UnitFactory(name="县水务局")
    for unit, due in ((roads, dt.date(2026, 11, 2)), (water, dt.date(2026, 11, 10))):
        node = NodeFactory(unit=unit, due_date=due)
        card_make(node, "yellow")
        card_make(node, "red", breached_at=at(f"{due + dt.timedelta(days=10)} 00:00"))
    PointsEntry.objects.create(
        unit=water,
        kind=EntryKind.BONUS,
        points=Decimal("0.50"),
        occurred_at=at("2026-06-01 09:00"),
        reason="表彰",
    )
    return roads, water


def restored_cards(db: sqlite3.Connection) -> list[tuple]:
    rows = db.execute(
        "SELECT node_id, unit_id, kind, breached_at, points FROM supervision_card ORDER BY id"
    )
    return [(n, u, k, b, Decimal(str(p)).quantize(Decimal("0.01"))) for n, u, k, b, p in rows]


def restored_scores(db: sqlite3.Connection, units) -> dict[int, Decimal]:
    scores = {}
    for unit in units:
        (total,) = db.execute(
            "SELECT COALESCE(SUM(points), 0) FROM scoring_pointsentry WHERE unit_id = ?",
            [unit.pk],
        ).fetchone()
        scores[unit.pk] = Decimal("100.00") + Decimal(str(total)).quantize(Decimal("0.01"))
    return scores


@on_sqlite
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # no transaction left open
def test_a_backup_restored_into_a_fresh_file_has_the_same_cards_and_scores(carded, tmp_path):
    # given: cards and points in the live database
    roads, water = carded
    cards = [
        (c.node_id, c.unit_id, c.kind, c.breached_at, c.points) for c in Card.objects.order_by("pk")
    ]
    scores = {s.unit_id: s.score for s in unit_scores(2026) if s.unit_id in (roads.pk, water.pk)}
    assert [kind for _, _, kind, _, _ in cards] == ["yellow", "red", "yellow", "red"]
    assert scores == {roads.pk: Decimal("97.00"), water.pk: Decimal("97.50")}
    # when: backed up while live, then restored into a fresh file (sqlite3 .restore)
    backup = tmp_path / "nodetrack-backup.sqlite3"
    call_command("backup_sqlite", str(backup))
    fresh = tmp_path / "restored.sqlite3"
    with sqlite3.connect(backup) as source, sqlite3.connect(fresh) as target:
        source.backup(target)
    # then: the restored file holds the same cards and gives the same scores
    with sqlite3.connect(fresh) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        got = restored_cards(db)
        assert [(n, u, k, p) for n, u, k, _, p in got] == [(n, u, k, p) for n, u, k, _, p in cards]
        assert [dt.datetime.fromisoformat(b).replace(tzinfo=dt.UTC) for *_, b, _ in got] == [
            b for *_, b, _ in cards
        ]
        assert restored_scores(db, [roads, water]) == scores


@on_sqlite
def test_a_backup_never_overwrites_a_file(tmp_path):
    # given
    existing = tmp_path / "old.sqlite3"
    existing.write_bytes(b"old backup")
    # when / then
    with pytest.raises(CommandError, match="备份文件已存在"):
        call_command("backup_sqlite", str(existing))
    assert existing.read_bytes() == b"old backup"


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the PostgreSQL refusal")
def test_on_postgresql_the_command_points_to_pg_dump(tmp_path):
    with pytest.raises(CommandError, match="pg_dump"):
        call_command("backup_sqlite", str(tmp_path / "x.sqlite3"))
    assert list(tmp_path.iterdir()) == []
