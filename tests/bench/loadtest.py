"""The HTTP measures: gunicorn (2 workers) on loopback, locust headless as 20 clients.

python -m tests.bench.loadtest token USERNAME   # prints a new API token (DATABASE_URL's db)
"""

import csv
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import config

TRIVIAL_PATH = "/accounts/login/"
NODE_LIST_PATH = "/api/v1/nodes/?limit=50"
# The same page as a client walking a province-wide list asks for it: without the count.
NODE_PAGE_PATH = "/api/v1/nodes/?limit=50&count=false"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout} s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _warm_up(host: str, token: str) -> None:
    """Each worker loads the app on its first requests: not part of the measure."""
    for _ in range(4 * config.HTTP_WORKERS):
        for path, headers in ((TRIVIAL_PATH, {}), (NODE_LIST_PATH, _auth(token))):
            request = urllib.request.Request(host + path, headers=headers)
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _locust(host: str, path: str, token: str, csv_prefix: Path, env: dict) -> dict:
    run_env = {**env, "BENCH_PATH": path, "BENCH_TOKEN": token}
    log = Path(f"{csv_prefix}.log")
    with log.open("w") as out:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "-u",
                str(config.HTTP_USERS),
                "-r",
                str(config.HTTP_USERS),
                "-t",
                f"{config.HTTP_SECONDS}s",
                "--host",
                host,
                "--csv",
                str(csv_prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--exit-code-on-error",
                "0",
            ],
            env=run_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if proc.returncode:
        raise RuntimeError(f"locust exited with {proc.returncode}; see {log}")
    with open(f"{csv_prefix}_stats.csv", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    requests, failures = int(row["Request Count"]), int(row["Failure Count"])
    if not requests or failures > requests * 0.01:
        raise RuntimeError(f"load test of {path}: {failures} of {requests} requests failed")
    return {
        "req_per_s": round(float(row["Requests/s"]), 1),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "requests": requests,
        "failures": failures,
    }


def run(*, env: dict, token: str, nodes: int) -> dict[str, dict]:
    """Both HTTP measures against one gunicorn; the server is stopped whatever happens."""
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    out = Path(config.PROFILE_DIR)
    out.mkdir(parents=True, exist_ok=True)
    log = (out / f"gunicorn-{nodes}.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "nodetrack.wsgi:application",
            "--workers", str(config.HTTP_WORKERS), "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped with its workers
    )  # fmt: skip
    try:
        _wait_ready(host + TRIVIAL_PATH, server)
        _warm_up(host, token)
        return {
            "http_node_list": _locust(host, NODE_LIST_PATH, token, out / f"http-{nodes}-list", env),
            "http_node_page": _locust(host, NODE_PAGE_PATH, token, out / f"http-{nodes}-page", env),
            "http_trivial": _locust(host, TRIVIAL_PATH, "", out / f"http-{nodes}-trivial", env),
        }
    finally:
        _stop(server)
        log.close()


def main() -> None:
    from .django_env import setup

    if sys.argv[1:2] != ["token"] or len(sys.argv) != 3:
        sys.exit("usage: python -m tests.bench.loadtest token USERNAME")
    setup()
    from organization.models import User
    from organization.tokens import api_token_create

    print(api_token_create(user=User.objects.get(username=sys.argv[2])))


if __name__ == "__main__":
    main()
