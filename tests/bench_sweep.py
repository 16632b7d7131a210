"""Benchmark: the sweep's cost against the number of nodes and of new breaches.

    .venv/bin/python tests/bench_sweep.py            # a throwaway SQLite file
    bash tests/with_postgres.sh .venv/bin/python tests/bench_sweep.py   # a throwaway PostgreSQL

Prints, for each size, the wall time and query count of a pass with no new breach and of
a pass with 100 new breaches, and the ratios to the smallest size.
"""

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodetrack.settings")
os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from organization.models import Unit  # noqa: E402
from projects.models import Node, Project  # noqa: E402
from supervision.services import sweep_run  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,50000").split(",")]
BREACHES = int(os.environ.get("BENCH_BREACHES", "100"))


def grow(project, unit, total: int) -> None:
    """Add quiet nodes (due next year) until the project has `total` nodes."""
    have = Node.objects.count()
    seq = have + 1
    rows = [
        Node(
            project=project,
            seq=seq + i,
            name=f"节点{seq + i}",
            unit=unit,
            due_date=dt.date(2027, 12, 31),
        )
        for i in range(total - have)
    ]
    Node.objects.bulk_create(rows, batch_size=2000)


def timed_pass(as_of):
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        run = sweep_run(as_of=as_of)
        elapsed = time.perf_counter() - start
    return elapsed, len(ctx.captured_queries), run


def main() -> None:
    call_command("migrate", verbosity=0)
    unit = Unit.objects.create(name="基准单位", kind="department")
    locality = Unit.objects.create(name="基准镇", kind="township")
    project = Project.objects.create(code="BENCH", name="基准项目", locality=locality)
    day = dt.date(2026, 1, 1)
    print(f"database: {connection.vendor}; new breaches per pass: {BREACHES}")
    print(f"{'nodes':>8} {'quiet ms':>9} {'quiet q':>8} {'breach ms':>10} {'breach q':>9}")
    base = None
    for size in SIZES:
        grow(project, unit, size)
        timed_pass(
            dt.datetime.combine(day, dt.time(0), tzinfo=SH)
        )  # works out new nodes' schedules
        quiet_s, quiet_q, _ = timed_pass(dt.datetime.combine(day, dt.time(0, 5), tzinfo=SH))
        # BREACHES nodes fall due on `day`; the pass after midnight issues their cards
        last = Node.objects.order_by("-seq").values_list("seq", flat=True).first()
        Node.objects.bulk_create(
            [
                Node(project=project, seq=last + 1 + i, name="到期节点", unit=unit, due_date=day)
                for i in range(BREACHES)
            ]
        )
        timed_pass(dt.datetime.combine(day, dt.time(12), tzinfo=SH))
        breach_s, breach_q, run = timed_pass(
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 1), tzinfo=SH)
        )
        assert run.counts.yellow == BREACHES, run.counts
        day += dt.timedelta(days=2)
        print(
            f"{size:>8} {quiet_s * 1000:>9.1f} {quiet_q:>8} {breach_s * 1000:>10.1f} {breach_q:>9}"
        )
        base = base or (size, quiet_s, breach_s, breach_q)
    size0, quiet0, breach0, q0 = base
    print(
        f"ratio {SIZES[-1] // size0}x nodes: quiet pass {quiet_s / quiet0:.2f}x time, "
        f"breach pass {breach_s / breach0:.2f}x time, {breach_q / q0:.2f}x queries"
    )


if __name__ == "__main__":
    main()
