"""Copy the live SQLite database to a file with SQLite's online backup API."""

import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections


class Command(BaseCommand):
    help = (
        "Back up the SQLite database while the site runs (SQLite's online backup API). "
        "On PostgreSQL use pg_dump instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", help="the backup file to write; it must not exist yet")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, target, database, **options):
        connection = connections[database]
        if connection.vendor != "sqlite":
            raise CommandError(
                "此命令仅用于 SQLite；PostgreSQL 请用 pg_dump -Fc 备份、pg_restore 恢复（见 README）"
            )
        path = Path(target)
        if path.exists():
            raise CommandError(f"备份文件已存在，不会覆盖：{path}")
        if connection.in_atomic_block:
            # SQLite's backup waits for the source's own open transaction forever.
            raise CommandError("请勿在事务中备份")
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        try:
            # In one step: a stepped copy starts over whenever another process writes
            # between steps; in WAL mode one step holds only a read lock, never the writers.
            connection.connection.backup(copy)
        finally:
            copy.close()
        self.stdout.write(f"已备份到 {path}")
