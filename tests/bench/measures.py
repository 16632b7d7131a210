"""One measure in its own process (so its peak RSS is its own), on DATABASE_URL's database.

    python -m tests.bench.measures SIDE MEASURE [--as-of ISO]

SIDE is `app` or `floor`. Prints one line `BENCH-RESULT {json}` with seconds, queries and
peak_rss_mb (and what the measure adds: the rows written, the instant used).
"""

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from . import config
from .django_env import setup

MEASURES = (
    "sweep_card_1pct",
    "sweep_noop",
    "node_list_staff",
    "node_list_office",
    "dashboard",
)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _user(username: str):
    from organization.models import User

    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        sys.exit(
            f"bench: no user {username!r} in the generated data: the generator and "
            "tests/bench/config.py must agree on the login users' names"
        )


def _timed_runs(run, runs: int) -> tuple[float, int]:
    """One warm-up, then `runs` timed runs (one if the warm-up took over SLOW_RUN seconds):
    the median seconds and the last run's queries."""
    from django.db import connection

    from .floor import Counter

    start = time.perf_counter()
    run()
    if time.perf_counter() - start > config.SLOW_RUN:
        runs = 1
    times, queries = [], 0
    for _ in range(runs):
        counter = Counter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        queries = counter.queries
    return statistics.median(times), queries


def _explain(run, label: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the queries one run sends that read the nodes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run()
    for query in ctx.captured_queries:
        sql = query["sql"]
        if "projects_node" not in sql:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n--- EXPLAIN {label} ({query['time']} s)\n{sql}\n{plan}\n", file=sys.stderr)


def app(measure: str, as_of: dt.datetime | None) -> dict:
    from django.db import connection
    from django.test import Client

    from core import clock
    from organization.tokens import api_token_create
    from supervision.services import sweep_run

    from .floor import Counter, table_counts

    if measure == "sweep_card_1pct":
        before = table_counts()
        as_of = as_of or clock.now()
        counter = Counter()
        profiler = None
        if config.PROFILE:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            run = sweep_run(as_of=as_of)
            seconds = time.perf_counter() - start
        if profiler is not None:
            profiler.stop()
            out = Path(config.PROFILE_DIR)
            out.mkdir(parents=True, exist_ok=True)
            stem = out / f"sweep-{os.environ.get('BENCH_NODES', 'n')}"
            stem.with_suffix(".html").write_text(profiler.output_html())
            stem.with_suffix(".txt").write_text(profiler.output_text(unicode=True))
            print(f"bench: profile written to {stem}.html and .txt", file=sys.stderr)
        if run.error:
            sys.exit(f"bench: the sweep recorded errors:\n{run.error}")
        after = table_counts()
        return {
            "seconds": seconds,
            "queries": counter.queries,
            "as_of": as_of.isoformat(),
            "written": {k: after[k] - before[k] for k in after},
            "nodes_checked": run.nodes_checked,
            "yellow": run.yellow,
        }
    if measure == "sweep_noop":
        times, queries = [], 0
        for _ in range(config.NOOP_RUNS):
            counter = Counter()
            with connection.execute_wrapper(counter):
                start = time.perf_counter()
                run = sweep_run(as_of=clock.now())
                times.append(time.perf_counter() - start)
            queries = counter.queries
            if run.yellow or run.red or run.notifications:
                sys.exit(f"bench: the second sweep still had work to do: {run.counts.line()}")
        return {"seconds": statistics.median(times), "queries": queries}
    if measure in ("node_list_staff", "node_list_office"):
        username = config.STAFF_USERNAME if measure.endswith("staff") else config.OFFICE_USERNAME
        token = api_token_create(user=_user(username))
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

        def page():
            response = client.get("/api/v1/nodes/?limit=50")
            assert response.status_code == 200, response.content[:500]
            assert len(response.json()["results"]) == 50, "the node list page is not full"

        if config.EXPLAIN:
            _explain(page, measure)
        seconds, queries = _timed_runs(page, config.RUNS)
        return {"seconds": seconds, "queries": queries}
    if measure == "dashboard":
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(_user(config.OFFICE_USERNAME))

        def home():
            response = client.get("/")
            assert response.status_code == 200, response.status_code

        seconds, queries = _timed_runs(home, config.RUNS)
        return {"seconds": seconds, "queries": queries}
    raise SystemExit(f"bench: unknown measure {measure!r}")


def floor(measure: str, as_of: dt.datetime | None) -> dict:
    from organization.selectors import system_user

    from . import floor as sql

    if measure == "sweep_card_1pct":
        if as_of is None:
            sys.exit("bench: the sweep's floor needs --as-of (the app's instant)")
        system_id = system_user().pk
        before = sql.table_counts()
        start = time.perf_counter()
        queries = sql.sweep_card(as_of=as_of, system_user_id=system_id)
        seconds = time.perf_counter() - start
        after = sql.table_counts()
        return {
            "seconds": seconds,
            "queries": queries,
            "written": {k: after[k] - before[k] for k in after},
        }
    if measure == "sweep_noop":
        from core import clock

        return dict(
            zip(
                ("seconds", "queries"),
                _timed_runs(lambda: sql.sweep_noop(as_of=clock.now()), config.RUNS),
                strict=True,
            )
        )
    if measure in ("node_list_staff", "node_list_office"):
        username = config.STAFF_USERNAME if measure.endswith("staff") else config.OFFICE_USERNAME
        user_id = _user(username).pk
        if config.EXPLAIN:
            _explain(lambda: sql.node_list(user_id=user_id), f"{measure} floor")
        seconds, queries = _timed_runs(lambda: sql.node_list(user_id=user_id), config.RUNS)
        return {"seconds": seconds, "queries": queries}
    if measure == "dashboard":
        user = _user(config.OFFICE_USERNAME)
        seconds, queries = _timed_runs(lambda: sql.dashboard(user=user), config.RUNS)
        return {"seconds": seconds, "queries": queries}
    raise SystemExit(f"bench: unknown measure {measure!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=("app", "floor"))
    parser.add_argument("measure", choices=MEASURES)
    parser.add_argument("--as-of", type=dt.datetime.fromisoformat, default=None)
    args = parser.parse_args()
    setup()
    result = (app if args.side == "app" else floor)(args.measure, args.as_of)
    result["peak_rss_mb"] = peak_rss_mb()
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
