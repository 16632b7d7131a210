"""Times the dashboard selector at province scale on PostgreSQL, for one or more checkouts.

    bash tests/with_postgres.sh /work/main/.venv/bin/python -m tests.bench.dashboard_scale \
        --projects 5000 [--code DIR ...] [--as-of]

Migrates, generates the data (demo's generate_scale, 20 nodes a project, dated 2026-12-07),
VACUUM ANALYZE, then for each checkout (default: this one) runs, in a fresh process each,
`dashboard(user=...)` a few times as the office and as a unit's staff, printing the seconds
of each run, the queries of the last one, the process's peak RSS and a digest of every figure
(equal digests: equal dashboards; DASHBOARD_EXPLAIN=1 prints each query's plan). With --as-of, also
the past-day dashboard (yesterday) once for the office.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-12-07"

CHILD = r"""
import datetime as dt, hashlib, json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodetrack.settings")
import django
django.setup()
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from reports.selectors.dashboard import dashboard

username, runs, as_of = sys.argv[1], int(sys.argv[2]), sys.argv[3]
user = get_user_model().objects.get(username=username)
day = dt.date.fromisoformat(as_of) if as_of != "-" else None
with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=True):
    seconds = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            board = dashboard(user=user, as_of=day)
            seconds.append(round(time.perf_counter() - started, 3))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps({
        "user": username, "as_of": as_of, "seconds": seconds, "queries": len(ctx.captured_queries),
        "peak_rss_mb": round(rss), "nodes": board.nodes, "cards": board.cards,
        "items_open": board.items_open,
        "digest": hashlib.sha1(repr(board).encode()).hexdigest()[:12],
    }))
    if os.environ.get("DASHBOARD_EXPLAIN"):
        for query in ctx.captured_queries:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print(chr(10).join(row[0] for row in cursor.fetchall()) + chr(10) + "----")
"""


def run(cmd, cwd=ROOT, label=None):
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    label = label or " ".join(cmd[1:4])
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--code", action="append", default=[])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as-of", action="store_true")
    args = parser.parse_args()
    py = sys.executable
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    run([py, "manage.py", "migrate", "--no-input", "-v0"])
    run([py, "manage.py", "generate_scale", "--projects", str(args.projects),
         "--nodes-per-project", "20", "--today", TODAY])  # fmt: skip
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    for code in args.code or [str(ROOT)]:
        print(f"== {code}", flush=True)
        cases = [("scale-office", "-"), ("scale-staff-1", "-")]
        if args.as_of:
            cases.append(("scale-office", "2026-12-06"))
        for username, as_of in cases:
            runs = args.runs if as_of == "-" else 1
            out = run([py, "-c", CHILD, username, str(runs), as_of], cwd=code, label=username)
            for line in out.splitlines():
                if line.startswith("RESULT "):
                    print("  " + json.dumps(json.loads(line[7:])), flush=True)
                elif os.environ.get("DASHBOARD_EXPLAIN"):
                    print(line)


if __name__ == "__main__":
    main()
