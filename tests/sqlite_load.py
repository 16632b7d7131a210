"""The scenario of test_sqlite_under_load, run in its own process on a SQLite file.

Not a test module: tests/test_sqlite_under_load.py starts it with DATABASE_URL pointing
at a file database, so several threads share one real SQLite file with its write lock
(the test database of the suite is in memory, where locking works differently).
"""

import csv
import json
import sys
import threading
import time
from pathlib import Path

HEADER = [
    "项目编号",
    "项目名称",
    "乡镇园区",
    "企业名称",
    "处置方式",
    "面积(亩)",
    "节点序号",
    "节点名称",
    "责任单位",
    "计划完成日期",
    "完成日期",
    "责任人",
    "包保领导",
]


def ledger_write(path: Path, rows: int, per_project: int = 10) -> Path:
    """A ledger of `rows` good rows: projects of `per_project` nodes each."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            project, seq = divmod(i, per_project)
            writer.writerow(
                [
                    f"LD-{project:05d}",
                    f"负载测试项目{project}",
                    "三河镇",
                    "",
                    "收储收回",
                    "10.00",
                    str(seq + 1),
                    f"节点{seq + 1}",
                    "县自然资源局",
                    "2027-06-30",
                    "",
                    "李明",
                    "",
                ]
            )
    return path


def main(workdir: str, rows: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings
    from django.db import connections
    from django.test import Client

    from ledger.batches import ledger_import_in_batches
    from ledger.importing import ledger_import
    from organization.models import User
    from organization.tokens import api_token_create
    from projects.models import Node, ProgressReport
    from tests.factories import NodeFactory, UnitFactory, make_user

    unit = UnitFactory(name="县自然资源局")
    staff = make_user("staff", unit, username="staff")
    node = NodeFactory(unit=unit)
    office = User.objects.get(username=settings.NODETRACK_SYSTEM_USERNAME)
    tokens = [api_token_create(user=staff) for _ in range(200)]
    path = ledger_write(Path(workdir) / "台账.csv", rows)
    connections.close_all()

    done = threading.Event()
    imported: dict = {}
    answers: list = []

    def import_ledger():
        try:
            started = time.monotonic()
            if "--batched" in sys.argv:  # as the task does, in batches of 50 rows
                result = ledger_import_in_batches(path_or_file=path, actor=office, batch_rows=50)
            else:
                result = ledger_import(path_or_file=path, actor=office)
            imported["errors"] = [str(e) for e in result.errors]
            imported["seconds"] = round(time.monotonic() - started, 2)
        except Exception as exc:
            imported["exception"] = repr(exc)
        finally:
            done.set()
            connections.close_all()

    def call_api(kind: str, n: int):
        client = Client(raise_request_exception=False)
        i = 0
        try:
            while not done.is_set():
                token = tokens[(n * 97 + i) % len(tokens)]
                headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
                started = time.monotonic()
                if kind == "read":
                    response = client.get("/api/v1/nodes/", **headers)
                else:
                    response = client.post(
                        f"/api/v1/nodes/{node.pk}/progress/",
                        json.dumps({"percent": i % 100, "note": "负载"}),
                        content_type="application/json",
                        **headers,
                    )
                body = response.content.decode()
                answers.append(
                    (
                        kind,
                        response.status_code,
                        round(time.monotonic() - started, 3),
                        "database is locked" in body,
                    )
                )
                i += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=import_ledger)]
    threads += [threading.Thread(target=call_api, args=("read", n)) for n in range(3)]
    if "--writes" in sys.argv:
        threads += [threading.Thread(target=call_api, args=("write", 9))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    print(
        json.dumps(
            {
                "import": imported,
                "answers": answers,
                "nodes": Node.objects.filter(project__code__startswith="LD-").count(),
                "reports": ProgressReport.objects.filter(node=node).count(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
