"""Long ledger imports: checked whole, then written in batches by a django-q2 task."""

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django_q.conf import Conf

from ledger import batches
from ledger.batches import ledger_import_in_batches
from ledger.importing import _Plan, _WriteFailed, ledger_import
from ledger.parsing import LedgerError
from organization.models import Unit, User
from projects.models import Node, NodeEvent, Project
from tests.factories import UnitFactory, make_user
from tests.sqlite_load import ledger_write

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def office():
    UnitFactory(name="县自然资源局")
    return make_user("supervisor", username="dcb")


@pytest.fixture
def sync_tasks(monkeypatch):
    """django-q2 runs enqueued tasks inline, as the cluster would."""
    monkeypatch.setattr(Conf, "SYNC", True)


def stored() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "ledger-uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def nodes() -> list[tuple]:
    return list(
        Node.objects.order_by("project__code", "seq").values_list(
            "project__code", "seq", "name", "due_date", "unit__name"
        )
    )


def test_batches_write_what_one_import_writes(tmp_path, office):
    # given: 23 projects of 10 nodes, written 40 rows (4 projects) a batch
    path = ledger_write(tmp_path / "台账.csv", 230)
    # when
    result = ledger_import_in_batches(path_or_file=path, actor=office, batch_rows=40)
    # then
    assert result.errors == []
    assert (len(result.projects_created), len(result.nodes_created)) == (23, 230)
    assert len(nodes()) == 230
    assert nodes()[:2] == [
        ("LD-00000", 1, "节点1", dt.date(2027, 6, 30), "县自然资源局"),
        ("LD-00000", 2, "节点2", dt.date(2027, 6, 30), "县自然资源局"),
    ]
    assert list(Unit.objects.order_by("name").values_list("name", flat=True)) == [
        "三河镇",
        "县自然资源局",
    ]
    # and when: the same file again, at once: nothing changes
    again = ledger_import(path_or_file=path, actor=office)
    assert (len(again.projects_unchanged), len(again.nodes_unchanged)) == (23, 230)


def test_the_whole_file_is_checked_before_any_batch_is_written(tmp_path, office):
    # given: a good file whose last row names a leader by a username nobody has
    path = ledger_write(tmp_path / "台账.csv", 100)
    text = path.read_text(encoding="utf-8-sig").splitlines()
    text[-1] = text[-1].rstrip(",") + ",nobody"
    path.write_text("\n".join(text) + "\n", encoding="utf-8-sig")
    # when
    result = ledger_import_in_batches(path_or_file=path, actor=office, batch_rows=20)
    # then: the error is reported and no batch was written
    assert [(e.row, e.column) for e in result.errors] == [(101, "包保领导")]
    assert (Project.objects.count(), Node.objects.count(), NodeEvent.objects.count()) == (0, 0, 0)


def test_a_failed_batch_keeps_the_batches_before_it_and_a_second_run_completes(
    tmp_path, office, monkeypatch
):
    """The documented rule: batches are upserts, so importing the file again completes it."""
    # given: the third batch fails as it writes (the database changed after the check)
    path = ledger_write(tmp_path / "台账.csv", 100)
    real = _Plan.write
    calls = []

    def write(self, *, actor, result):
        calls.append(1)
        if len(calls) == 3:
            raise _WriteFailed(LedgerError("写入失败", 41, None))
        return real(self, actor=actor, result=result)

    monkeypatch.setattr(_Plan, "write", write)
    # when
    failed = ledger_import_in_batches(path_or_file=path, actor=office, batch_rows=20)
    # then: two batches (4 projects, 40 nodes) are written, the rest not
    assert [str(e) for e in failed.errors] == [str(LedgerError("写入失败", 41, None))]
    assert (Project.objects.count(), Node.objects.count()) == (4, 40)
    # when: the same file again, after the cause is gone
    monkeypatch.setattr(_Plan, "write", real)
    done = ledger_import_in_batches(path_or_file=path, actor=office, batch_rows=20)
    # then: completed, nothing duplicated
    assert done.errors == []
    assert (len(done.projects_unchanged), len(done.projects_created)) == (4, 6)
    assert (len(done.nodes_unchanged), len(done.nodes_created)) == (40, 60)
    assert (Project.objects.count(), Node.objects.count()) == (10, 100)


def test_import_ledger_background_enqueues_a_long_file(tmp_path, office, sync_tasks, monkeypatch):
    # given: a file longer than the threshold
    monkeypatch.setattr(batches, "BACKGROUND_ROWS", 50)
    monkeypatch.setattr("ledger.management.commands.import_ledger.BACKGROUND_ROWS", 50)
    path = ledger_write(tmp_path / "台账.csv", 60)
    out = io.StringIO()
    # when
    call_command("import_ledger", str(path), "--background", stdout=out)
    # then: the task imported it from a copy, which it removed; the caller's file stays
    assert out.getvalue().startswith("台账共60行，已交给后台任务分批导入（任务 ")
    assert len(nodes()) == 60
    assert path.exists() and stored() == []


def test_import_ledger_background_imports_a_short_file_at_once(tmp_path, office):
    # given
    path = ledger_write(tmp_path / "台账.csv", 20)
    out = io.StringIO()
    # when
    call_command("import_ledger", str(path), "--background", stdout=out)
    # then
    assert out.getvalue().splitlines()[0] == "台账导入完成。"
    assert len(nodes()) == 20


def test_the_page_hands_a_long_file_to_the_task(client, office, sync_tasks, monkeypatch, tmp_path):
    # given: an uploaded and previewed file longer than the threshold
    monkeypatch.setattr("ledger.views.BACKGROUND_ROWS", 50)
    client.force_login(office)
    path = ledger_write(tmp_path / "台账.csv", 60)
    with open(path, "rb") as f:
        assert client.post(reverse("ledger-upload"), {"file": f}).status_code == 302
    assert len(stored()) == 1 and Node.objects.count() == 0
    # when
    response = client.post(reverse("ledger-confirm"), follow=True)
    # then
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "台账共60行，已转入后台分批导入：先整体校验，有错误则不导入；导入结果记入管理后台的任务记录。"
    ]
    assert len(nodes()) == 60
    assert stored() == []
    assert User.objects.filter(username="dcb").exists()
