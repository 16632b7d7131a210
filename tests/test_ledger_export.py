"""The ledger export: the import's columns, read back by the import to exactly no change."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from demo.data import demo_load
from ledger.exporting import HEADER, ledger_projects, ledger_rows
from ledger.importing import ledger_import
from organization.selectors import system_user
from projects.choices import DisposalMethod
from projects.models import DisposalLine, Node, Project, WorkStream
from supervision.services import node_complete
from tests.factories import (
    DisposalLineFactory,
    EnterpriseFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
    make_user,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SH)
COLUMNS = [
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
    "专项",
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def world() -> dict:
    """Every row of every model an import could touch, history tables included."""
    snapshot = {}
    for app in ("organization", "projects", "supervision", "scoring"):
        for model in apps.get_app_config(app).get_models():
            fields = [f.attname for f in model._meta.concrete_fields]
            snapshot[model._meta.label] = list(model.objects.order_by("pk").values_list(*fields))
    return snapshot


def export_bytes(fmt: str, projects=None) -> bytes:
    projects = projects if projects is not None else ledger_projects()
    out = io.BytesIO()
    if fmt == "xlsx":
        from core.tabular import xlsx_write

        xlsx_write(out, HEADER, ledger_rows(projects), "台账")
    else:
        from core.tabular import csv_lines

        out.write("".join(csv_lines(HEADER, ledger_rows(projects))).encode("utf-8"))
    out.seek(0)
    return out.getvalue()


def read_back(fmt: str, data: bytes) -> list[list]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def assert_no_change(result) -> None:
    assert result.errors == []
    assert result.projects_created == result.projects_updated == []
    assert result.nodes_created == result.nodes_updated == []
    assert result.units_created == result.enterprises_created == result.leaders_created == []
    assert result.nodes_missing == [] and result.warnings == []


# -- the round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_exported_demo_ledger_imports_back_to_no_change_at_all(fmt):
    # given: the demo, with its three streams, completions, leaders and multi-method lines
    demo_load()
    before = world()
    data = export_bytes(fmt)
    # when
    dry = ledger_import(path_or_file=io.BytesIO(data), actor=system_user(), dry_run=True)
    real = ledger_import(path_or_file=io.BytesIO(data), actor=system_user())
    # then
    assert_no_change(dry)
    assert_no_change(real)
    assert len(real.projects_unchanged) == 45
    assert len(real.nodes_unchanged) == 346
    assert world() == before


def test_the_export_has_the_imports_columns_and_cells_as_the_import_reads_them():
    # given
    locality = LocalityFactory(name="三河镇")
    unit = UnitFactory(name="县自然资源局")
    leader = UserFactory(username="leader_he", full_name="何平")
    project = ProjectFactory(
        code="FX-001",
        name="某机械厂低效用地收储",
        locality=locality,
        enterprise=EnterpriseFactory(name="合肥某机械有限公司"),
        leader=leader,
    )
    DisposalLineFactory(project=project, method=DisposalMethod.GRAFTING, area_mu=Decimal("56.30"))
    DisposalLineFactory(project=project, method=DisposalMethod.TAKEBACK, area_mu=Decimal("12"))
    done = NodeFactory(
        project=project, seq=1, unit=unit, owner="李明", due_date=dt.date(2026, 12, 1)
    )
    node_complete(
        node=done,
        actor=system_user(),
        source="admin",
        completed_at=dt.datetime(2026, 12, 3, 23, 30, tzinfo=SH),
    )
    NodeFactory(project=project, seq=2, unit=locality, owner="", due_date=dt.date(2027, 1, 20))
    # when
    rows = {fmt: read_back(fmt, export_bytes(fmt)) for fmt in ("csv", "xlsx")}
    # then
    assert rows["csv"] == [
        COLUMNS,
        [
            "FX-001",
            "某机械厂低效用地收储",
            "三河镇",
            "合肥某机械有限公司",
            "嫁接盘活+收储收回",
            "56.30+12.00",
            "1",
            done.name,
            "县自然资源局",
            "2026-12-01",
            "2026-12-03",
            "李明",
            "何平",
            "园区转型升级",
        ],
        [
            "FX-001",
            "某机械厂低效用地收储",
            "三河镇",
            "合肥某机械有限公司",
            "嫁接盘活+收储收回",
            "56.30+12.00",
            "2",
            Node.objects.get(seq=2).name,
            "三河镇",
            "2027-01-20",
            "",
            "",
            "何平",
            "园区转型升级",
        ],
    ]
    assert rows["xlsx"][0] == COLUMNS
    assert rows["xlsx"][1][6] == 1
    assert rows["xlsx"][1][9:11] == [dt.datetime(2026, 12, 1), dt.datetime(2026, 12, 3)]
    assert rows["xlsx"][2][10:12] == [None, None]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_text_that_looks_like_a_formula_is_neutralised_and_reads_back_as_typed(fmt):
    # given
    project = ProjectFactory(
        code="=CODE", name="=SUM(A1)", enterprise=EnterpriseFactory(name="+86企业")
    )
    DisposalLineFactory(project=project, method=DisposalMethod.TAKEBACK, area_mu=Decimal("1.50"))
    NodeFactory(project=project, seq=1, name="-30%", owner="@李明", unit=UnitFactory(name="-单位"))
    before = world()
    data = export_bytes(fmt)
    # when
    cells = read_back(fmt, data)[1]
    result = ledger_import(path_or_file=io.BytesIO(data), actor=system_user())
    # then: the file holds inert text, the import reads back exactly the original text
    assert cells[:2] == ["'=CODE", "'=SUM(A1)"]
    assert cells[3] == "'+86企业"
    assert (cells[7], cells[8], cells[11]) == ("'-30%", "'-单位", "'@李明")
    assert_no_change(result)
    assert result.projects_unchanged == ["=CODE"]
    assert world() == before


def test_a_leader_is_written_by_the_name_the_import_finds_them_by():
    # given: a unique full name, a homonym pair, a full name another user has as username,
    # and a leader who no longer signs in
    unique = UserFactory(username="u1", full_name="何平")
    twin = UserFactory(username="u2", full_name="王芳")
    UserFactory(username="u3", full_name="王芳")
    shadowed = UserFactory(username="u4", full_name="zhang")
    UserFactory(username="zhang", full_name="张三")
    gone = UserFactory(username="u6", full_name="赵六", is_active=False)
    for code, leader in (("P1", unique), ("P2", twin), ("P3", shadowed), ("P4", gone)):
        project = ProjectFactory(code=code, leader=leader)
        DisposalLineFactory(project=project)
        NodeFactory(project=project, seq=1)
    before = world()
    data = export_bytes("csv")
    # when
    leaders = [row[12] for row in read_back("csv", data)[1:]]
    result = ledger_import(path_or_file=io.BytesIO(data), actor=system_user())
    # then
    assert leaders == ["何平", "u2", "u4", ""]
    assert_no_change(result)
    assert world() == before


def test_a_project_without_nodes_or_archived_has_no_row():
    # given
    ProjectFactory(code="EMPTY")
    archived = ProjectFactory(code="OLD", archived_at=NOW)
    NodeFactory(project=archived, seq=1)
    kept = ProjectFactory(code="KEPT")
    NodeFactory(project=kept, seq=1)
    # when
    codes = [row[0] for row in ledger_rows(ledger_projects())]
    # then
    assert codes == ["KEPT"]


# -- filters, as the project list ------------------------------------------------------------


def test_the_export_takes_the_project_lists_filters():
    # given
    demo_load()
    invest = WorkStream.objects.get(code="investment")
    locality = Project.objects.get(code="FXDX-001").locality
    # when
    by_stream = ledger_projects(data={"work_stream": "investment"})
    by_locality = ledger_projects(data={"locality": str(locality.pk)})
    by_method = ledger_projects(data={"method": "grafting"})
    bad = ledger_projects(data={"work_stream": "nope"})
    # then
    assert {row[0] for row in ledger_rows(by_stream)} == {"FXZS-001", "FXZS-002", "FXZS-003"}
    assert {row[13] for row in ledger_rows(by_stream)} == {invest.name}
    assert {row[4] for row in ledger_rows(by_stream)} == {None}
    assert {row[2] for row in ledger_rows(by_locality)} == {locality.name}
    assert {row[0] for row in ledger_rows(by_method)} == {"FXDX-005", "FXDX-011", "FXDX-020"}
    assert bad is None


# -- the command -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_ledger_writes_a_file_import_ledger_reads_back_to_no_change(tmp_path, suffix):
    # given
    demo_load()
    path = tmp_path / f"台账{suffix}"
    before = world()
    out, back = io.StringIO(), io.StringIO()
    # when
    call_command("export_ledger", str(path), "--work-stream", "重点项目建设", stdout=out)
    call_command("import_ledger", str(path), stdout=back)
    # then
    assert out.getvalue() == f"已导出21行到 {path}。\n"
    assert "项目：新建0个，更新0个，无变化3个" in back.getvalue()
    assert "节点：新建0个，更新0个，无变化21个" in back.getvalue()
    assert world() == before


def test_export_ledger_filters_by_names_and_refuses_unknown_ones(tmp_path):
    # given
    demo_load()
    path = tmp_path / "台账.csv"
    # when
    call_command(
        "export_ledger",
        str(path),
        "--locality",
        "桃花工业园",
        "--method",
        "自主提升",
        stdout=io.StringIO(),
    )
    # then
    rows = read_back("csv", path.read_bytes())
    assert {row[0] for row in rows[1:]} == {"FXDX-005", "FXDX-007"}
    for args, message in (
        (["--unit", "没有的局"], "没有名为“没有的局”的单位。"),
        (["--work-stream", "没有的专项"], "没有名为“没有的专项”的专项。"),
        (["--method", "拍卖"], "无法识别的处置方式“拍卖”。"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("export_ledger", str(tmp_path / "x.csv"), *args)
    with pytest.raises(CommandError, match="扩展名"):
        call_command("export_ledger", str(tmp_path / "x.txt"))
    assert not (tmp_path / "x.csv").exists()


# -- the page --------------------------------------------------------------------------------


def office_client(client):
    client.force_login(make_user("supervisor", username="dcb"))
    return client


def test_the_office_downloads_the_ledger_as_the_project_list_filters_it(client):
    # given
    demo_load()
    office_client(client)
    url = reverse("ledger-export")
    # when
    xlsx = client.get(url, {"format": "xlsx", "work_stream": "investment"})
    csv_ = client.get(url, {"format": "csv", "work_stream": "investment"})
    # then
    assert xlsx.status_code == csv_.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx["Content-Disposition"]
    assert csv_["Content-Disposition"].endswith(".csv")
    assert csv_.streaming
    rows = read_back("xlsx", b"".join(xlsx.streaming_content))
    body = b"".join(csv_.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert [row[0] for row in rows[1:]] == [row[0] for row in read_back("csv", body)[1:]]
    assert {row[0] for row in rows[1:]} == {"FXZS-001", "FXZS-002", "FXZS-003"}


@pytest.mark.parametrize("role", ["staff", "leader", "principal"])
def test_only_the_office_exports_the_ledger(client, role):
    # given
    unit = UnitFactory()
    client.force_login(make_user(role, unit) if role != "principal" else make_user(role))
    # when
    response = client.get(reverse("ledger-export"), {"format": "csv"})
    # then
    assert response.status_code == 403


def test_a_bad_format_or_filter_answers_400(client):
    # given
    office_client(client)
    url = reverse("ledger-export")
    # then
    assert client.get(url, {"format": "pdf"}).status_code == 400
    assert client.get(url, {"format": "csv", "work_stream": "nope"}).status_code == 400


# Session, user, roles; then the leaders' names, the disposal lines and the nodes (streamed).
LEDGER_EXPORT_QUERIES = 6


def make_projects(count: int, start: int = 0) -> None:
    stream = WorkStream.objects.create(code=f"s{start}", name=f"专项{start}")
    leader = UserFactory()
    for i in range(start, start + count):
        project = ProjectFactory(code=f"P-{i:03d}", leader=leader, work_stream=stream)
        NodeFactory(project=project, seq=1)
        NodeFactory(project=project, seq=2)
        other = ProjectFactory(code=f"L-{i:03d}", leader=UserFactory())
        DisposalLineFactory(project=other)
        NodeFactory(project=other, seq=1)


@pytest.mark.parametrize("size", [2, 12])
def test_the_export_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    # given
    office_client(client)
    make_projects(size)
    url = reverse("ledger-export")
    # when / then
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(LEDGER_EXPORT_QUERIES):
            response = client.get(url, {"format": fmt, "q": "P-"})
            content = b"".join(response.streaming_content)
        assert len(read_back(fmt, content)) == 1 + 2 * size


# -- a non-land stream's projects, and the 专项 column on import -----------------------------


def test_an_invest_project_exports_blank_disposal_and_its_stream():
    # given
    stream = WorkStream.objects.create(code="investment", name="招商引资")
    project = ProjectFactory(code="ZS-1", work_stream=stream)
    NodeFactory(project=project, seq=1)
    # when
    (row,) = ledger_rows(ledger_projects())
    # then
    assert row[4:6] == [None, None]
    assert row[13] == "招商引资"
    assert DisposalLine.objects.count() == 0
