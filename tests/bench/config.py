"""The benchmark's knobs and the names it relies on, in one place."""

import os
from pathlib import Path

# The generator's login users (demo.scale.scale_usernames()).
STAFF_USERNAME = "scale-staff-1"  # staff of one unit: sees its nodes and covered projects'
OFFICE_USERNAME = "scale-office"  # the supervision office: sees everything

NODES_PER_PROJECT = 20
OVERDUE_FRACTION = 0.01
SEED = 1

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000 100000").replace(",", " ").split()]
HTTP_SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", "30"))
HTTP_USERS = 20
HTTP_WORKERS = 2
EXPLAIN = os.environ.get("BENCH_EXPLAIN", "") not in ("", "0")
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
RUNS = 5  # read measures: the median of this many runs after one warm-up
SLOW_RUN = 3.0  # ... or one run after it, when the warm-up took longer than this (seconds)
NOOP_RUNS = 3

RESULTS_FILE = "bench-results.json"
PROFILE_DIR = str(Path(__file__).resolve().parents[2] / "var" / "bench")

# Targets checked at the end.
SWEEP_CARD_MAX_RATIO = 3.0
SWEEP_NOOP_MAX_SECONDS = 0.3
NODE_LIST_MAX_RATIO = 2.0
HTTP_MIN_SHARE = 0.30
SWEEP_MAX_RSS_MB = 300
