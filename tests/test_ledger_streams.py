"""The ledger's optional 专项 column: absent or blank, it keeps an existing project's stream
(a new project's is the land stream); disposal cells required on the land stream only,
unknown streams refusing the whole file."""

import csv
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ledger.importing import ledger_import
from organization.selectors import system_user
from projects.models import DisposalLine, Node, Project, WorkStream
from tests.factories import LocalityFactory, UnitFactory, make_user
from tests.test_ledger_import import HEADER, ledger_row, write_csv
from tests.test_pages_ledger import text

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


# -- a blank or absent 专项 keeps an existing project's stream --------------------------------

INVEST_ROW = {"专项": "招商引资", "处置方式": "", "面积(亩)": ""}
KEPT_MESSAGE = (
    "第2行 处置方式：项目“FX-001”在系统中属于“招商引资”，不是土地处置专项，"
    "处置方式和面积应留空（如确需改为“园区转型升级”，请在专项列注明）"
)


def everything() -> tuple:
    """All an import could change of the project: stream, fields, lines, nodes, history."""
    return (
        list(Project.objects.values_list("code", "name", "work_stream__code", "leader_id")),
        list(Node.objects.values_list("project__code", "seq", "name", "due_date", "owner")),
        list(DisposalLine.objects.values_list("project__code", "method", "area_mu")),
        Project.history.count(),
        Node.history.count(),
        DisposalLine.history.count(),
    )


# (the header, the row's cells, the errors); None: the header without the 专项 column.
OLD_FORMAT_ROWS = [
    pytest.param(HEADER, {"处置方式": "", "面积(亩)": ""}, [], id="absent-disposal-blank"),
    pytest.param(WITH_STREAM, {**INVEST_ROW, "专项": ""}, [], id="blank-disposal-blank"),
    pytest.param(HEADER, {}, [KEPT_MESSAGE], id="absent-disposal-filled"),
    pytest.param(WITH_STREAM, {"专项": ""}, [KEPT_MESSAGE], id="blank-disposal-filled"),
    pytest.param(HEADER, {"面积(亩)": ""}, [KEPT_MESSAGE], id="absent-method-only"),
    pytest.param(WITH_STREAM, {"专项": "", "处置方式": ""}, [KEPT_MESSAGE], id="blank-area-only"),
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
@pytest.mark.parametrize(("header", "cells", "errors"), OLD_FORMAT_ROWS)
def test_a_row_naming_no_stream_keeps_an_existing_projects_stream(
    tmp_path, invest, header, cells, errors, dry_run
):
    # given: a project of the investment stream, imported from the ledger
    assert run(tmp_path, [ledger_row(**INVEST_ROW)]).errors == []
    before = everything()
    # when: a file without the column (or with it blank) names the project again
    result = run(tmp_path, [ledger_row(**cells)], header=header, dry_run=dry_run)
    # then: it stays where it is, nothing changed (no history row); disposal cells refused
    assert [str(error) for error in result.errors] == errors
    assert result.projects_unchanged == ([] if errors else ["FX-001"])
    assert result.projects_updated == [] and result.warnings == []
    assert everything() == before
    assert Project.objects.get().work_stream == invest


# (the existing project's stream or None for a new one, the header, the row's cells,
#  the errors, the project's stream after, its disposal lines after)
STREAM_RULES = [
    pytest.param(None, HEADER, {}, [], "land", [("takeback", "56.30")], id="new-absent"),
    pytest.param(
        None, WITH_STREAM, {"专项": ""}, [], "land", [("takeback", "56.30")], id="new-blank"
    ),
    pytest.param(
        None,
        HEADER,
        {"面积(亩)": ""},
        ["第2行 面积(亩)：不能为空"],
        None,
        [],
        id="new-absent-area-blank",
    ),
    pytest.param(
        None,
        WITH_STREAM,
        {"专项": "", "处置方式": "", "面积(亩)": ""},
        ["第2行 处置方式：不能为空", "第2行 面积(亩)：不能为空"],
        None,
        [],
        id="new-blank-disposal-blank",
    ),
    pytest.param(
        "land",
        HEADER,
        {"处置方式": "", "面积(亩)": ""},
        ["第2行 处置方式：不能为空", "第2行 面积(亩)：不能为空"],
        "land",
        [("takeback", "56.30")],
        id="land-absent-disposal-blank",
    ),
    pytest.param(
        "land",
        HEADER,
        {"面积(亩)": "60"},
        [],
        "land",
        [("takeback", "60.00")],
        id="land-absent-area-changed",
    ),
    pytest.param(
        "investment",
        WITH_STREAM,
        {"专项": "园区转型升级"},
        [],
        "land",
        [("takeback", "56.30")],
        id="investment-named-land-moves",
    ),
    pytest.param(
        "land",
        WITH_STREAM,
        INVEST_ROW,
        [],
        "investment",
        [("takeback", "56.30")],
        id="land-named-investment-moves",
    ),
]


@pytest.mark.parametrize(("given", "header", "cells", "errors", "stream", "lines"), STREAM_RULES)
def test_the_stream_a_project_ends_up_in_and_its_disposal_rules(
    tmp_path, invest, given, header, cells, errors, stream, lines
):
    # given
    if given:
        first = {} if given == "land" else INVEST_ROW
        assert run(tmp_path, [ledger_row(**first)]).errors == []
    history = Project.history.count()
    # when
    result = run(tmp_path, [ledger_row(**cells)], header=header)
    # then
    assert [str(error) for error in result.errors] == errors
    assert list(Project.objects.values_list("work_stream__code", flat=True)) == (
        [stream] if stream else []
    )
    assert [
        (method, str(area))
        for method, area in DisposalLine.objects.values_list("method", "area_mu")
    ] == lines
    moved = given is not None and stream != given
    assert Project.history.count() == history + (1 if moved or (given is None and stream) else 0)


def test_a_row_naming_no_stream_follows_the_row_of_its_project_that_names_one(tmp_path, invest):
    # given: the second row of an investment project leaves 专项 blank, disposal blank
    rows = [
        ledger_row(**INVEST_ROW),
        ledger_row(**{**INVEST_ROW, "专项": "", "节点序号": "2", "节点名称": "签约"}),
    ]
    # when
    result = run(tmp_path, rows)
    # then
    assert result.errors == []
    assert Project.objects.get().work_stream == invest
    assert Node.objects.count() == 2 and DisposalLine.objects.count() == 0


@pytest.mark.parametrize(
    ("cells", "shown"),
    [
        ({"处置方式": "", "面积(亩)": ""}, "项目 0 0 1"),
        ({}, KEPT_MESSAGE),
    ],
    ids=["disposal-blank", "disposal-filled"],
)
def test_the_upload_pages_dry_run_reports_the_same(client, tmp_path, invest, cells, shown):
    # given: an investment project, and the office with an older file naming it
    run(tmp_path, [ledger_row(**INVEST_ROW)])
    client.force_login(make_user("supervisor", username="dcb"))
    path = write_csv(tmp_path / "旧台账.csv", [ledger_row(**cells)], header=HEADER)
    before = everything()
    # when
    upload = SimpleUploadedFile("旧台账.csv", path.read_bytes(), content_type="text/csv")
    response = client.post(reverse("ledger-upload"), {"file": upload}, follow=True)
    # then
    body = text(response)
    assert shown in body
    assert "更新项目" not in body
    assert everything() == before
