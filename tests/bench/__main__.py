"""`make bench`: NodeTrack at province scale against its SQL floor, on a throwaway PostgreSQL.

    BENCH_SIZES="10000 100000" bash tests/with_postgres.sh .venv/bin/python -m tests.bench

For each size N: a fresh database, migrate, generate N nodes (demo's generate_scale),
VACUUM ANALYZE, a copy (CREATE DATABASE ... TEMPLATE) for the
floor; then each measure in its own process, the app on the original and hand-written SQL
doing the same work (on the copy for the sweep's writes). Prints a table and the targets,
writes bench-results.json; exits 1 if the floor wrote other rows than the app, or a measure
failed. BENCH_HTTP_SECONDS shortens the load test, BENCH_EXPLAIN=1 prints the list queries'
plans, BENCH_PROFILE=1 profiles the sweep (var/bench/), BENCH_KEEP=1 keeps the databases (until
the throwaway server goes).
"""

import datetime as dt
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from . import config, loadtest

ROOT = Path(__file__).resolve().parents[2]
READ_MEASURES = ("node_list_staff", "node_list_office", "dashboard")


class BenchFailure(Exception):
    pass


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every finally: servers stop


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(base: str) -> psycopg.Connection:
    return psycopg.connect(base, autocommit=True)


def _run(cmd: list[str], env: dict, what: str) -> str:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.stderr.strip() and (proc.returncode or config.EXPLAIN or config.PROFILE):
        sys.stderr.write(proc.stderr)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:])
        raise BenchFailure(f"{what} failed (exit {proc.returncode}): {' '.join(cmd[1:])}")
    print(f"   {what}: {time.perf_counter() - started:.1f} s", flush=True)
    return proc.stdout


def _measure(side: str, measure: str, env: dict, *extra: str) -> dict:
    out = _run(
        [sys.executable, "-m", "tests.bench.measures", side, measure, *extra],
        env,
        f"{side} {measure}",
    )
    for line in out.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line.removeprefix("BENCH-RESULT "))
    raise BenchFailure(f"{side} {measure} printed no result")


def _generator(projects: int, today: dt.date) -> list[str]:
    args = [
        "--projects", str(projects),
        "--nodes-per-project", str(config.NODES_PER_PROJECT),
        "--overdue-fraction", str(config.OVERDUE_FRACTION),
        "--seed", str(config.SEED),
        "--today", today.isoformat(),
    ]  # fmt: skip
    return [sys.executable, "manage.py", "generate_scale", *args]


def machine(base: str) -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    with _admin(base) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgres": pg,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "sweep_batch": _sweep_batch(),
        "http_seconds": config.HTTP_SECONDS,
        "generator": " ".join(_generator(1, dt.date.today())[1:3]),
    }


def _sweep_batch() -> int:
    return int(os.environ.get("NODETRACK_SWEEP_BATCH", "500"))


def _row(measure: str, nodes: int, app: dict, floor: dict | None) -> dict:
    row = {
        "measure": measure,
        "db": "postgresql",
        "nodes": nodes,
        "seconds": round(app["seconds"], 4),
        "queries": app.get("queries"),
        "peak_rss_mb": app.get("peak_rss_mb"),
        "floor_seconds": round(floor["seconds"], 4) if floor else None,
        "floor_queries": floor.get("queries") if floor else None,
        "ratio": round(app["seconds"] / floor["seconds"], 2) if floor else None,
    }
    return row


def bench_size(base: str, nodes: int, failures: list[str]) -> list[dict]:
    print(f"\n== {nodes} nodes", flush=True)
    name, copy = f"bench_{nodes}", f"bench_{nodes}_floor"
    url, copy_url = _db_url(base, name), _db_url(base, copy)
    env = {**os.environ, "DATABASE_URL": url, "BENCH_NODES": str(nodes)}
    env.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    copy_env = {**env, "DATABASE_URL": copy_url}
    with _admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    rows: list[dict] = []
    try:
        _run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env, "migrate")
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # county time
        _run(_generator(max(1, nodes // config.NODES_PER_PROJECT), today), env, "generate")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        with _admin(base) as conn:
            conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')

        app = _measure("app", "sweep_card_1pct", env)
        floor = _measure("floor", "sweep_card_1pct", copy_env, "--as-of", app["as_of"])
        print(f"   rows written ({app['yellow']} cards, {app['nodes_checked']} nodes checked):")
        print(f"   {'table':<44} {'app':>11} {'floor':>11}")
        for table, count in app["written"].items():
            mark = "" if floor["written"].get(table) == count else "   <-- MISMATCH"
            print(f"   {table:<44} {count:>11} {floor['written'].get(table):>11}{mark}")
        if app["written"] != floor["written"]:
            failures.append(f"{nodes} nodes: the sweep's floor wrote other rows than the app")
        row = _row("sweep_card_1pct", nodes, app, floor)
        batches = max(1, math.ceil(app["nodes_checked"] / _sweep_batch()))
        row.update(
            cards=app["yellow"],
            nodes_due=app["nodes_checked"],
            queries_per_batch=round(app["queries"] / batches, 1),
            queries_per_card=round(app["queries"] / max(1, app["yellow"]), 1),
            rows_written=app["written"],
        )
        rows.append(row)
        noop = _measure("app", "sweep_noop", env)
        rows.append(_row("sweep_noop", nodes, noop, _measure("floor", "sweep_noop", env)))
        # A pass's own queries (its run record, the rules, the calendar, the reminders) are
        # those of the pass with nothing to do; the rest are the batches'.
        row["queries_per_batch"] = round((app["queries"] - noop["queries"]) / batches, 1)
        for measure in READ_MEASURES:
            rows.append(
                _row(measure, nodes, _measure("app", measure, env), _measure("floor", measure, env))
            )
        token = _run(
            [sys.executable, "-m", "tests.bench.loadtest", "token", config.OFFICE_USERNAME],
            env,
            "API token",
        ).strip()
        print(
            f"   load test: {config.HTTP_USERS} clients, {config.HTTP_SECONDS} s each", flush=True
        )
        http = loadtest.run(env=env, token=token, nodes=nodes)
        trivial = http["http_trivial"]["req_per_s"]
        for measure, stats in http.items():
            rows.append(
                {
                    "measure": measure,
                    "db": "postgresql",
                    "nodes": nodes,
                    "seconds": config.HTTP_SECONDS,
                    "queries": None,
                    "peak_rss_mb": None,
                    "floor_seconds": None,
                    "ratio": round(stats["req_per_s"] / trivial, 2)
                    if measure != "http_trivial" and trivial
                    else None,
                    **stats,
                }
            )
    finally:
        if os.environ.get("BENCH_KEEP", "") in ("", "0"):
            with _admin(base) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    return rows


def _fmt(value, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: list[dict]) -> None:
    print(
        f"\n{'measure':<18} {'nodes':>8} {'seconds':>9} {'queries':>8} {'floor s':>9} "
        f"{'floor q':>8} {'ratio':>6} {'rss MB':>7}  http"
    )
    for r in results:
        http = (
            f"{r['req_per_s']} req/s, p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms"
            if "req_per_s" in r
            else ""
        )
        seconds = "-" if "req_per_s" in r else _fmt(r["seconds"], ".4f")
        print(
            f"{r['measure']:<18} {r['nodes']:>8} {seconds:>9} {_fmt(r['queries']):>8} "
            f"{_fmt(r['floor_seconds'], '.4f'):>9} {_fmt(r.get('floor_queries')):>8} "
            f"{_fmt(r['ratio'], '.2f'):>6} {_fmt(r['peak_rss_mb']):>7}  {http}"
        )


def targets(results: list[dict]) -> list[tuple[bool, str]]:
    checks: list[tuple[bool, str]] = []
    by = {(r["measure"], r["nodes"]): r for r in results}
    sizes = sorted({r["nodes"] for r in results})
    for n in sizes:
        card = by.get(("sweep_card_1pct", n))
        if card:
            checks.append(
                (
                    card["ratio"] <= config.SWEEP_CARD_MAX_RATIO,
                    f"sweep_card_1pct {n}: {card['ratio']}x floor "
                    f"(target <= {config.SWEEP_CARD_MAX_RATIO}x)",
                )
            )
            checks.append(
                (
                    card["peak_rss_mb"] < config.SWEEP_MAX_RSS_MB,
                    f"sweep peak RSS {n}: {card['peak_rss_mb']} MB "
                    f"(target < {config.SWEEP_MAX_RSS_MB} MB)",
                )
            )
        noop = by.get(("sweep_noop", n))
        if noop:
            checks.append(
                (
                    noop["seconds"] < config.SWEEP_NOOP_MAX_SECONDS,
                    f"sweep_noop {n}: {noop['seconds']:.3f} s "
                    f"(target < {config.SWEEP_NOOP_MAX_SECONDS} s)",
                )
            )
        for m in ("node_list_staff", "node_list_office"):
            r = by.get((m, n))
            if r:
                checks.append(
                    (
                        r["ratio"] <= config.NODE_LIST_MAX_RATIO,
                        f"{m} {n}: {r['ratio']}x floor (target <= {config.NODE_LIST_MAX_RATIO}x)",
                    )
                )
        for m in ("http_node_list", "http_node_page"):
            http = by.get((m, n))
            if http and http["ratio"] is not None:
                checks.append(
                    (
                        http["ratio"] >= config.HTTP_MIN_SHARE,
                        f"{m} {n}: {http['ratio']:.0%} of http_trivial "
                        f"(target >= {config.HTTP_MIN_SHARE:.0%})",
                    )
                )
    if len(sizes) > 1:
        for m in ("sweep_noop", *READ_MEASURES):
            counts = {n: by[(m, n)]["queries"] for n in sizes if (m, n) in by}
            checks.append(
                (len(set(counts.values())) == 1, f"{m} queries the same at every size: {counts}")
            )
        per_batch = {
            n: by[("sweep_card_1pct", n)]["queries_per_batch"]
            for n in sizes
            if ("sweep_card_1pct", n) in by
        }
        same = max(per_batch.values()) <= 1.2 * min(per_batch.values())
        per_card = {
            n: by[("sweep_card_1pct", n)]["queries_per_card"]
            for n in sizes
            if ("sweep_card_1pct", n) in by
        }
        checks.append(
            (
                same,
                f"sweep_card_1pct queries per batch of {_sweep_batch()} nodes (beyond an "
                f"idle pass's) within 20% at every size: {per_batch} (per card: {per_card})",
            )
        )
    return checks  # fmt: skip


def main() -> int:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        print(
            "bench: needs a PostgreSQL in DATABASE_URL; run it as `make bench` "
            "(bash tests/with_postgres.sh .venv/bin/python -m tests.bench)",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.perf_counter()
    info = machine(base)
    print(
        f"NodeTrack bench: sizes {config.SIZES}; {info['cpu']}, {info['cores']} cores, "
        f"{info['ram_gb']} GB; Python {info['python']}, PostgreSQL {info['postgres']}"
    )
    results: list[dict] = []
    failures: list[str] = []
    for nodes in config.SIZES:
        try:
            results.extend(bench_size(base, nodes, failures))
        except (BenchFailure, RuntimeError, subprocess.CalledProcessError) as exc:
            failures.append(f"{nodes} nodes: {exc}")
            print(f"bench: {exc}", file=sys.stderr)
    Path(ROOT / config.RESULTS_FILE).write_text(
        json.dumps({"machine": info, "results": results}, ensure_ascii=False, indent=2) + "\n"
    )
    print_table(results)
    print("\ntargets:")
    checks = targets(results)
    for ok, text in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {text}")
    for failure in failures:
        print(f"  [FAILED] {failure}")
    print(
        f"\n{len([c for c in checks if c[0]])} of {len(checks)} targets met; "
        f"{config.RESULTS_FILE} written; {time.perf_counter() - started:.0f} s in all"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
