"""The ledger's optional 专项 column: the land stream when absent or blank, disposal cells
required on the land stream only, unknown streams refusing the whole file."""

import csv
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from ledger.importing import ledger_import
from organization.selectors import system_user
from projects.models import DisposalLine, Node, Project, WorkStream
from tests.factories import LocalityFactory, UnitFactory
from tests.test_ledger_import import HEADER, ledger_row, write_csv

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WITH_STREAM = [*HEADER, "专项"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def invest():
    LocalityFactory(name="三河镇")
    UnitFactory(name="县自然资源局")
    return WorkStream.objects.create(code="investment", name="招商引资", seq=3)


def run(tmp_path, rows, header=WITH_STREAM, dry_run=False):
    path = write_csv(tmp_path / "台账.csv", rows, header=header)
    return ledger_import(path_or_file=path, actor=system_user(), dry_run=dry_run)


def world() -> tuple:
    return (
        list(Project.objects.values_list("code", "work_stream__code")),
        list(Node.objects.values_list("project__code", "seq")),
        DisposalLine.objects.count(),
        Project.history.count(),
    )


def test_a_file_without_the_column_imports_into_the_land_stream_as_before(tmp_path, invest):
    # when
    result = run(tmp_path, [ledger_row()], header=HEADER)
    # then
    assert result.errors == []
    assert Project.objects.get().work_stream == WorkStream.objects.land()
    assert str(DisposalLine.objects.get().area_mu) == "56.30"


@pytest.mark.parametrize("cell", ["招商引资", "investment"])
def test_another_streams_project_may_leave_disposal_blank(tmp_path, invest, cell):
    # when
    result = run(tmp_path, [ledger_row(**{"处置方式": "", "面积(亩)": "", "专项": cell})])
    # then
    assert result.errors == []
    assert result.projects_created == ["FX-001"]
    assert Project.objects.get().work_stream == invest
    assert DisposalLine.objects.count() == 0


def test_a_blank_cell_is_the_land_stream(tmp_path, invest):
    # when
    result = run(tmp_path, [ledger_row(**{"专项": ""})])
    # then
    assert result.errors == []
    assert Project.objects.get().work_stream.is_land


@pytest.mark.parametrize(
    ("cells", "messages"),
    [
        (
            {"专项": "乡村振兴"},
            ["第2行 专项：系统中没有名为“乡村振兴”的专项（现有：园区转型升级、招商引资）"],
        ),
        (
            {"专项": "园区转型升级", "处置方式": "", "面积(亩)": ""},
            ["第2行 处置方式：不能为空", "第2行 面积(亩)：不能为空"],
        ),
        (
            {"专项": "", "处置方式": "", "面积(亩)": ""},
            ["第2行 处置方式：不能为空", "第2行 面积(亩)：不能为空"],
        ),
        (
            {"专项": "招商引资"},
            ["第2行 处置方式：“招商引资”不是土地处置专项，处置方式和面积应留空"],
        ),
        (
            {"专项": "招商引资", "面积(亩)": ""},
            ["第2行 面积(亩)：处置方式与面积须一同填写或一同留空"],
        ),
    ],
)
def test_a_bad_stream_or_disposal_refuses_the_whole_file(tmp_path, invest, cells, messages):
    # given: a good project first, so that "whole file" means something
    good = ledger_row(**{"项目编号": "FX-000", "专项": "招商引资", "处置方式": "", "面积(亩)": ""})
    bad = ledger_row(**cells)
    before = world()
    # when
    result = run(tmp_path, [bad, good])
    # then
    assert [str(error) for error in result.errors] == messages
    assert world() == before


def test_rows_of_one_project_must_agree_on_the_stream(tmp_path, invest):
    # when
    result = run(
        tmp_path,
        [
            ledger_row(**{"专项": "园区转型升级"}),
            ledger_row(**{"节点序号": "2", "专项": "招商引资", "处置方式": "", "面积(亩)": ""}),
        ],
    )
    # then
    assert "第3行 专项：与第2行同一项目编号的“园区转型升级”不一致" in [
        str(e) for e in result.errors
    ]
    assert Project.objects.count() == 0


def test_a_re_import_moves_a_project_to_the_streams_the_ledger_says_and_history_shows_it(
    tmp_path, invest
):
    # given: a land project of the ledger, with its disposal line
    run(tmp_path, [ledger_row()], header=HEADER)
    project = Project.objects.get()
    # when: the ledger now says it is an investment project
    result = run(tmp_path, [ledger_row(**{"专项": "招商引资", "处置方式": "", "面积(亩)": ""})])
    # then: moved, recorded, and the disposal line kept with a warning (the import never deletes)
    assert result.errors == []
    assert result.projects_updated == ["FX-001"]
    project.refresh_from_db()
    assert project.work_stream == invest
    last = project.history.first()
    assert (last.work_stream_id, last.history_change_reason) == (invest.pk, "台账导入")
    assert DisposalLine.objects.count() == 1
    assert result.warnings == [
        "项目“FX-001”在系统中的处置方式“收储收回”（56.30亩）台账中没有，已保留，请核对"
    ]


def test_the_same_stream_again_changes_nothing(tmp_path, invest):
    # given
    rows = [ledger_row(**{"专项": "investment", "处置方式": "", "面积(亩)": ""})]
    run(tmp_path, rows)
    before = world()
    # when
    result = run(tmp_path, rows)
    # then
    assert result.projects_unchanged == ["FX-001"]
    assert world() == before


def test_write_csv_helper_keeps_the_stream_column(tmp_path):
    # the helper writes the header it is given, the optional column included
    path = write_csv(tmp_path / "x.csv", [ledger_row(**{"专项": "招商引资"})], header=WITH_STREAM)
    with open(path, encoding="utf-8-sig") as f:
        header, row = list(csv.reader(f))
    assert header[-1] == "专项" and row[-1] == "招商引资"
