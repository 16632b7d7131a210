"""Locust: every simulated client asks for BENCH_PATH again and again, no think time."""

import os

from locust import FastHttpUser, constant, task

HEADERS = (
    {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    if os.environ.get("BENCH_TOKEN")
    else {}
)


class Reader(FastHttpUser):
    wait_time = constant(0)

    @task
    def read(self):
        self.client.get(os.environ["BENCH_PATH"], headers=HEADERS, name="page")
