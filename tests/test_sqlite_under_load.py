"""The embedded default stays up under work: on a SQLite file, the API answers while a long
ledger import holds the write lock (the scenario is tests/sqlite_load.py, in its own process)."""

import gc
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import OperationalError
from django.db.utils import ConnectionHandler

ROOT = Path(__file__).resolve().parent.parent
# A 20,000-row import takes minutes on SQLite (about 27 ms a row here); the race it shows is
# the same at 300 rows (about 10 s), which keeps this test near 20 s.
ROWS = 300


def scenario(tmp_path: Path, *flags: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "nodetrack.settings",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_load", str(tmp_path), str(ROWS), *flags],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reads_answer_while_a_long_import_holds_the_write_lock(tmp_path):
    """Token authentication records last_used_at at most once a minute per token and never
    waits for the write lock: reads go on while an import writes (issue: 500 after 20 s)."""
    # when: three threads read the API with 200 tokens in turn while the import runs
    result = scenario(tmp_path)
    # then
    assert result["import"]["errors"] == []
    answers = result["answers"]
    assert {(status, locked) for _kind, status, _seconds, locked in answers} == {(200, False)}
    # each thread kept answering: with a write on authentication they would each wait
    # for the import's lock (one answer apiece), here they answer hundreds of times
    assert len(answers) >= 60


def test_reads_and_writes_answer_while_a_long_import_runs_in_batches(tmp_path):
    """Long imports are written in batches (ledger.batches), each its own short transaction:
    a write through the API waits at most for one batch, never the whole import."""
    # when: three threads read and one reports progress while the batched import runs
    result = scenario(tmp_path, "--batched", "--writes")
    # then
    assert result["import"]["errors"] == []
    assert result["nodes"] == ROWS
    answers = result["answers"]
    assert {(kind, status, locked) for kind, status, _seconds, locked in answers} == {
        ("read", 200, False),
        ("write", 201, False),
    }
    writes = [a for a in answers if a[0] == "write"]
    assert result["reports"] == len(writes) >= 2


def test_a_failed_begin_leaves_nothing_another_thread_waits_for_when_it_collects_garbage(
    tmp_path, django_db_blocker
):
    """A BEGIN refused with "database is locked" left its cursor in a reference cycle; the
    garbage collector then freed it in another thread, which took the mutex of the cursor's
    connection, held while that connection waits in the busy handler. Under load the
    collector ran in the import's batch, holding the write lock the waiting connection
    wanted: both stood still until the busy timeout (a write answered 500 after 20 s)."""
    path = tmp_path / "db.sqlite3"
    # given: the import's batch holds the write lock
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    # and a connection of the site's own backend and options, whose BEGIN is refused at once
    settings_dict = {
        "ENGINE": "core.sqlite",
        "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 2},
    }
    writer = ConnectionHandler({"default": settings_dict})["default"]
    writer.inc_thread_sharing()
    refused: list[str] = []

    def begin():
        try:
            writer._start_transaction_under_autocommit()
        except OperationalError as exc:
            refused.append(str(exc))

    with django_db_blocker.unblock():
        gc.collect()
        gc.disable()
        try:
            with writer.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 0")
            begin()
            with writer.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 2000")
            # when: the same connection waits for the write lock in its own thread (2 s) while
            # another thread collects the garbage the refusal left
            waiting = threading.Thread(target=begin)
            waiting.start()
            time.sleep(0.3)
            started = time.monotonic()
            collected = gc.collect()
            collecting = time.monotonic() - started
            waiting.join()
        finally:
            gc.enable()
            holder.rollback()
            holder.close()
            writer.close()
    # then: the collection did not wait for the connection (it did for about 1.7 s before)
    assert collected > 0
    assert collecting < 0.5
    assert refused == ["database is locked", "database is locked"]
