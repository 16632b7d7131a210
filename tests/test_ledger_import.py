"""manage.py import_ledger: a county's existing ledger (台账) into projects and nodes."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.importing import ledger_import
from organization.choices import UnitKind
from organization.models import Unit, User
from projects.choices import DisposalMethod, NodeEventKind
from projects.models import DisposalLine, Enterprise, Node, NodeEvent, Project
from tests.factories import (
    DisposalLineFactory,
    EnterpriseFactory,
    LocalityFactory,
    NodeFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
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


def ledger_row(**cells) -> dict:
    """A good ledger row; keyword arguments replace cells by header."""
    row = {
        "项目编号": "FX-001",
        "项目名称": "原合肥某机械厂低效用地收储",
        "乡镇园区": "三河镇",
        "企业名称": "合肥某机械有限公司",
        "处置方式": "收储收回",
        "面积(亩)": "56.30",
        "节点序号": "1",
        "节点名称": "完成土地测绘",
        "责任单位": "县自然资源局",
        "计划完成日期": "2026-03-10",
        "完成日期": "",
        "责任人": "李明",
        "包保领导": "",
    }
    row.update(cells)
    return row


def write_csv(path, rows, *, encoding="utf-8-sig", header=HEADER, above=()):
    """A CSV file as Excel writes it: optional title rows, the header, then the rows."""
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        for line in above:
            writer.writerow(line)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(column, "") for column in header])
    return path


def write_xlsx(path, rows, *, header=HEADER, above=()):
    """An .xlsx file: optional title rows, the header, then the rows (cells keep their types)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in above:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append([row.get(column.strip(), row.get(column)) for column in header])
    workbook.save(path)
    return path


def db_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Project, Node, Unit, Enterprise, DisposalLine)
    }


def run(path, *args) -> tuple[str, str]:
    """call_command import_ledger; returns (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_ledger", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path, *args) -> list[str]:
    """call_command import_ledger expecting failure; returns the error lines it printed."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_ledger", str(path), *args, stdout=out, stderr=err)
    assert excinfo.value.returncode == 1
    lines = err.getvalue().splitlines()
    assert str(excinfo.value) == f"台账有{len(lines)}处错误，未导入任何数据。"
    assert out.getvalue() == ""
    return lines


def end_of_day(year, month, day) -> dt.datetime:
    return dt.datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def system_user() -> User:
    return User.objects.get(username="system")


# -- good files ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_creates_projects_nodes_units_and_enterprises(tmp_path, encoding):
    # given
    leader = UserFactory(username="zhangwei", full_name="张伟")
    path = write_csv(
        tmp_path / "台账.csv",
        [
            ledger_row(包保领导="张伟"),
            ledger_row(
                节点序号="2",
                节点名称="签订收储协议",
                责任单位="三河镇",
                计划完成日期="2026/4/5",
                完成日期="2026年4月3日",
                责任人="",
                包保领导="",
            ),
            ledger_row(
                项目编号="FX-002",
                项目名称="某纺织厂嫁接盘活",
                乡镇园区="肥西经济开发区",
                企业名称="",
                处置方式="嫁接盘活",
                **{"面积(亩)": "12"},
                节点名称="引进新业主",
                责任单位="县住房和城乡建设局",
                计划完成日期="2026年5月1日",
            ),
        ],
        encoding=encoding,
    )
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    # when
    out, err = run(path)
    # then
    assert err == ""
    assert out.splitlines() == [
        "台账导入完成。",
        "项目：新建2个，更新0个，无变化0个",
        "节点：新建3个，更新0个，无变化0个",
        "新建项目：FX-001、FX-002",
        "新建责任单位4个：三河镇、肥西经济开发区、县自然资源局、县住房和城乡建设局",
        "新建企业1个：合肥某机械有限公司",
    ]
    units = {u.name: u.kind for u in Unit.objects.all()}
    assert units == {
        "三河镇": UnitKind.TOWNSHIP,
        "肥西经济开发区": UnitKind.PARK,
        "县自然资源局": UnitKind.DEPARTMENT,
        "县住房和城乡建设局": UnitKind.DEPARTMENT,
    }
    first = Project.objects.get(code="FX-001")
    assert (first.name, first.locality.name, first.enterprise.name, first.leader) == (
        "原合肥某机械厂低效用地收储",
        "三河镇",
        "合肥某机械有限公司",
        leader,
    )
    assert first.enterprise.locality == first.locality
    assert list(first.disposal_lines.values_list("method", "area_mu")) == [
        (DisposalMethod.TAKEBACK, Decimal("56.30"))
    ]
    second = Project.objects.get(code="FX-002")
    assert (second.locality.name, second.enterprise, second.leader) == (
        "肥西经济开发区",
        None,
        None,
    )
    assert list(second.disposal_lines.values_list("method", "area_mu")) == [
        (DisposalMethod.GRAFTING, Decimal("12.00"))
    ]
    nodes = list(
        Node.objects.order_by("project__code", "seq").values_list(
            "project__code",
            "seq",
            "name",
            "unit__name",
            "owner",
            "due_date",
            "completed_at",
            "progress",
        )
    )
    assert nodes == [
        ("FX-001", 1, "完成土地测绘", "县自然资源局", "李明", dt.date(2026, 3, 10), None, 0),
        (
            "FX-001",
            2,
            "签订收储协议",
            "三河镇",
            "",
            dt.date(2026, 4, 5),
            end_of_day(2026, 4, 3),
            100,
        ),
        ("FX-002", 1, "引进新业主", "县住房和城乡建设局", "李明", dt.date(2026, 5, 1), None, 0),
    ]
    done = Node.objects.get(project__code="FX-001", seq=2)
    # Created, then completed through the one completion service: two versions, one reason.
    assert [
        (h.completed_at, h.history_change_reason, h.history_user)
        for h in done.history.order_by("history_id")
    ] == [
        (None, "台账导入", system_user()),
        (end_of_day(2026, 4, 3), "台账导入", system_user()),
    ]
    assert list(done.events.values_list("kind", "actor__username")) == [
        (NodeEventKind.COMPLETED, "system")
    ]
    # A ledger completion leaves its completion report, like any other completion.
    assert list(
        done.progress_reports.values_list("percent", "is_completion", "author__username")
    ) == [(100, True, "system")]


def test_xlsx_with_title_rows_shuffled_columns_and_excel_date_cells(tmp_path):
    # given
    header = [
        "节点序号",
        " 计划完成日期 ",
        "项目名称",
        "责任单位",
        "面积（亩）",
        "节点名称",
        "备注",
        "处置方式",
        "乡镇园区",
        "项目编号",
    ]
    path = write_xlsx(
        tmp_path / "台账.xlsx",
        [
            {
                "节点序号": 1,
                "计划完成日期": dt.datetime(2026, 3, 10),
                "项目名称": "某厂房改造",
                "责任单位": "县经信局",
                "面积（亩）": 20.5,
                "节点名称": "方案批复",
                "备注": "无",
                "处置方式": "自主提升",
                "乡镇园区": "上派镇",
                "项目编号": 2026001,
            },
            {},  # an empty row is skipped
            {"备注": "以下为续建节点"},  # so is a row with nothing but notes
            {
                "节点序号": 2,
                "计划完成日期": "2026/6/30",
                "项目名称": "某厂房改造",
                "责任单位": "县经信局",
                "面积（亩）": "20.50",
                "节点名称": "竣工投产",
                "处置方式": "自主提升",
                "乡镇园区": "上派镇",
                "项目编号": "2026001",
            },
        ],
        header=header,
        above=[["肥西县低效用地处置项目节点台账"], [None, "填报单位：县投促局"]],
    )
    # when
    out, err = run(path)
    # then
    assert err == ""
    assert out.splitlines()[1:3] == [
        "项目：新建1个，更新0个，无变化0个",
        "节点：新建2个，更新0个，无变化0个",
    ]
    project = Project.objects.get()
    assert (project.code, project.name, project.locality.kind) == (
        "2026001",
        "某厂房改造",
        UnitKind.TOWNSHIP,
    )
    assert list(project.disposal_lines.values_list("method", "area_mu")) == [
        (DisposalMethod.SELF_UPGRADE, Decimal("20.50"))
    ]
    assert list(project.nodes.order_by("seq").values_list("seq", "name", "due_date")) == [
        (1, "方案批复", dt.date(2026, 3, 10)),
        (2, "竣工投产", dt.date(2026, 6, 30)),
    ]


def test_xlsx_row_numbers_count_title_and_empty_rows(tmp_path):
    # given
    path = write_xlsx(
        tmp_path / "台账.xlsx",
        [ledger_row(), {}, ledger_row(节点序号="2", 计划完成日期="2026-02-30")],
        above=[["台账"], []],
    )
    # when
    errors = run_failing(path)
    # then
    assert errors == ["第6行 计划完成日期：无法识别的日期“2026-02-30”"]


def test_several_methods_joined_by_plus_or_enumeration_comma(tmp_path):
    # given
    path = write_csv(
        tmp_path / "台账.csv",
        [
            ledger_row(处置方式="收储收回+自主提升", **{"面积(亩)": "10.5+20"}),
            ledger_row(
                项目编号="FX-002",
                处置方式="嫁接盘活、自主提升、收储收回",
                **{"面积(亩)": "100 + 3.25+0.01"},
            ),
        ],
    )
    # when
    run(path)
    # then
    lines = DisposalLine.objects.order_by("project__code", "id")
    assert list(lines.values_list("project__code", "method", "area_mu")) == [
        ("FX-001", DisposalMethod.TAKEBACK, Decimal("10.50")),
        ("FX-001", DisposalMethod.SELF_UPGRADE, Decimal("20.00")),
        ("FX-002", DisposalMethod.GRAFTING, Decimal("100.00")),
        ("FX-002", DisposalMethod.SELF_UPGRADE, Decimal("3.25")),
        ("FX-002", DisposalMethod.TAKEBACK, Decimal("0.01")),
    ]
    assert Project.objects.get(code="FX-002").area_mu == Decimal("103.26")


def test_new_responsible_units_get_their_kind_from_the_name(tmp_path):
    # given
    path = write_csv(
        tmp_path / "台账.csv",
        [
            ledger_row(节点序号=str(seq), 责任单位=unit)
            for seq, unit in enumerate(
                [
                    "县住房和城乡建设局",
                    "县乡村振兴局",
                    "严店乡",
                    "官亭镇人民政府",
                    "桃花工业园区管委会",
                    "高新技术产业开发区",
                    "三河镇",
                ],
                start=1,
            )
        ],
    )
    # when
    run(path)
    # then
    assert dict(Unit.objects.values_list("name", "kind")) == {
        "三河镇": UnitKind.TOWNSHIP,  # the locality, made first
        "县住房和城乡建设局": UnitKind.DEPARTMENT,
        "县乡村振兴局": UnitKind.DEPARTMENT,
        "严店乡": UnitKind.TOWNSHIP,
        "官亭镇人民政府": UnitKind.TOWNSHIP,
        "桃花工业园区管委会": UnitKind.PARK,
        "高新技术产业开发区": UnitKind.PARK,
    }


def test_existing_units_enterprises_and_leaders_are_reused(tmp_path):
    # given
    locality = LocalityFactory(name="桃花镇")
    department = UnitFactory(name="县自然资源局")
    enterprise = EnterpriseFactory(name="合肥某机械有限公司", locality=None)
    leader = UserFactory(username="wangfang", full_name="王芳")
    path = write_csv(tmp_path / "台账.csv", [ledger_row(乡镇园区="桃花镇", 包保领导="wangfang")])
    # when
    out, _err = run(path)
    # then
    assert "新建责任单位" not in out and "新建企业" not in out
    project = Project.objects.get()
    assert (project.locality, project.enterprise, project.leader) == (locality, enterprise, leader)
    assert Node.objects.get().unit == department
    enterprise.refresh_from_db()
    assert enterprise.locality is None


# -- bad files: every error listed, nothing written ------------------------------------------

METHOD_HINT = "（应为收储收回、嫁接盘活或自主提升，多种用“+”或“、”连接）"

BAD_ROWS = {
    "missing required value": (
        [ledger_row(), ledger_row(节点序号="2", 项目名称="", 节点名称="  ")],
        ["第3行 项目名称：不能为空", "第3行 节点名称：不能为空"],
    ),
    "bad date": (
        [ledger_row(计划完成日期="2026-13-01")],
        ["第2行 计划完成日期：无法识别的日期“2026-13-01”"],
    ),
    "bad date text": (
        [ledger_row(计划完成日期="3月10日")],
        ["第2行 计划完成日期：无法识别的日期“3月10日”"],
    ),
    "bad method": (
        [ledger_row(处置方式="收储收回+挂牌出让", **{"面积(亩)": "1+2"})],
        [f"第2行 处置方式：无法识别的处置方式“挂牌出让”{METHOD_HINT}"],
    ),
    "repeated method": (
        [ledger_row(处置方式="自主提升、自主提升", **{"面积(亩)": "1+2"})],
        ["第2行 处置方式：处置方式“自主提升”重复"],
    ),
    "area count mismatch": (
        [ledger_row(处置方式="收储收回+嫁接盘活", **{"面积(亩)": "30"})],
        ["第2行 面积(亩)：填写了1个面积，但处置方式有2种，应按顺序一一对应"],
    ),
    "zero area": (
        [ledger_row(**{"面积(亩)": "0"})],
        ["第2行 面积(亩)：面积须大于0，而不是“0”"],
    ),
    "negative area": (
        [ledger_row(处置方式="收储收回+嫁接盘活", **{"面积(亩)": "5+-1.5"})],
        ["第2行 面积(亩)：面积须大于0，而不是“-1.5”"],
    ),
    "three decimals": (
        [ledger_row(**{"面积(亩)": "1.125"})],
        ["第2行 面积(亩)：面积“1.125”最多保留两位小数"],
    ),
    "area not a number": (
        [ledger_row(**{"面积(亩)": "约30亩"})],
        ["第2行 面积(亩)：无法识别的面积“约30亩”"],
    ),
    "bad seq": (
        [ledger_row(节点序号="0"), ledger_row(节点序号="第二"), ledger_row(节点序号="1.5")],
        [
            "第2行 节点序号：应为不小于1的整数，而不是“0”",
            "第3行 节点序号：应为不小于1的整数，而不是“第二”",
            "第4行 节点序号：应为不小于1的整数，而不是“1.5”",
        ],
    ),
    "duplicate seq": (
        [ledger_row(), ledger_row(节点名称="另一个节点"), ledger_row(节点序号="1.0")],
        [
            "第3行 节点序号：项目“FX-001”的节点序号1与第2行重复",
            "第4行 节点序号：项目“FX-001”的节点序号1与第2行重复",
        ],
    ),
    "contradicting project values": (
        [
            ledger_row(包保领导="张伟"),
            ledger_row(
                节点序号="2",
                项目名称="另一个名称",
                乡镇园区="上派镇",
                企业名称="另一企业",
                包保领导="zhangwei",
            ),
            ledger_row(节点序号="3", 处置方式="收储收回+自主提升", **{"面积(亩)": "56.3+1"}),
            ledger_row(节点序号="4", **{"面积(亩)": "56.31"}),
            ledger_row(节点序号="5", 企业名称="", 包保领导=""),  # blank optional cells agree
        ],
        [
            "第3行 项目名称：与第2行同一项目编号的“原合肥某机械厂低效用地收储”不一致",
            "第3行 乡镇园区：与第2行同一项目编号的“三河镇”不一致",
            "第3行 企业名称：与第2行同一项目编号的“合肥某机械有限公司”不一致",
            "第3行 包保领导：与第2行同一项目编号的“张伟”不一致",
            "第4行 处置方式：与第2行同一项目编号的“收储收回”不一致",
            "第5行 面积(亩)：与第2行同一项目编号的“收储收回56.30”不一致",
        ],
    ),
    "unknown username as leader": (
        [ledger_row(包保领导="wangwu")],
        ["第2行 包保领导：系统中没有用户名为“wangwu”的用户；新的包保领导请填写其姓名"],
    ),
    "unknown leader name too long": (
        [ledger_row(包保领导="王" * 51)],
        [f"第2行 包保领导：系统中没有用户名为“{'王' * 51}”的用户，作为姓名又超过50个字符"],
    ),
    "ambiguous leader": (
        [ledger_row(包保领导="刘洋")],
        ["第2行 包保领导：系统中有2个用户姓名为“刘洋”，请改填用户名"],
    ),
    "future completion date": (
        [ledger_row(完成日期="2099-01-01")],
        ["第2行 完成日期：“2099-01-01”晚于今天，完成日期不能是将来的日期"],
    ),
    "locality is a department": (
        [ledger_row(乡镇园区="县财政局"), ledger_row(节点序号="2", 乡镇园区="县财政局")],
        ["第2行 乡镇园区：“县财政局”在系统中是县直部门，不能作为乡镇园区"],
    ),
    "inactive unit": (
        [ledger_row(责任单位="县已撤并局")],
        ["第2行 责任单位：“县已撤并局”在系统中已停用"],
    ),
    "text too long": (
        [ledger_row(责任人="李" * 51)],
        ["第2行 责任人：超过50个字符"],
    ),
}


@pytest.fixture
def existing_data():
    """Some data in the database already, which a failed import must leave alone."""
    UserFactory(username="zhangwei", full_name="张伟")
    UserFactory(username="liuyang1", full_name="刘洋")
    UserFactory(username="liuyang2", full_name="刘洋")
    UnitFactory(name="县财政局")
    UnitFactory(name="县已撤并局", is_active=False)
    node = NodeFactory(project__code="OLD-1", project__locality__name="丰乐镇")
    DisposalLineFactory(project=node.project)
    return node


@pytest.mark.parametrize("rows, expected", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_bad_rows_are_listed_and_nothing_is_written(tmp_path, existing_data, rows, expected):
    # given
    path = write_csv(tmp_path / "台账.csv", rows)
    before = db_counts()
    # when
    errors = run_failing(path)
    # then
    assert errors == expected
    assert db_counts() == before


def test_missing_header_columns_are_named(tmp_path, existing_data):
    # given
    header = [c for c in HEADER if c not in ("节点序号", "面积(亩)")]
    path = write_csv(tmp_path / "台账.csv", [ledger_row()], header=header, above=[["台账"]])
    before = db_counts()
    # when
    errors = run_failing(path)
    # then
    assert errors == ["第2行 面积(亩)：缺少此列", "第2行 节点序号：缺少此列"]
    assert db_counts() == before


def test_a_header_column_twice_is_an_error(tmp_path, existing_data):
    # given
    path = write_csv(tmp_path / "台账.csv", [ledger_row()], header=[*HEADER, "责任人 "])
    before = db_counts()
    # when
    errors = run_failing(path)
    # then
    assert errors == ["第1行 责任人：表头中此列出现了两次"]
    assert db_counts() == before


def test_no_header_in_the_first_ten_rows(tmp_path, existing_data):
    # given
    path = write_csv(tmp_path / "台账.csv", [], header=["序号", "名称"])
    before = db_counts()
    # when
    errors = run_failing(path)
    # then
    assert errors == [
        (
            "前10行中未找到表头，表头须包含以下列：项目编号、项目名称、乡镇园区、处置方式、"
            "面积(亩)、节点序号、节点名称、责任单位、计划完成日期"
        )
    ]
    assert db_counts() == before


def test_every_error_in_the_file_is_listed_in_row_order(tmp_path, existing_data):
    # given
    path = write_xlsx(
        tmp_path / "台账.xlsx",
        [
            ledger_row(计划完成日期="2026-13-01", 包保领导="wang_wu"),
            ledger_row(节点序号="2"),  # a good row
            ledger_row(节点序号="2", 处置方式="收回", 完成日期="2099-12-31"),
            ledger_row(项目编号="", **{"面积(亩)": "-1"}),
        ],
        above=[["肥西县节点台账"]],
    )
    before = db_counts()
    # when
    errors = run_failing(path)
    # then
    assert errors == [
        "第3行 计划完成日期：无法识别的日期“2026-13-01”",
        "第3行 包保领导：系统中没有用户名为“wang_wu”的用户；新的包保领导请填写其姓名",
        "第5行 处置方式：无法识别的处置方式“收回”" + METHOD_HINT,
        "第5行 节点序号：项目“FX-001”的节点序号2与第4行重复",
        "第5行 完成日期：“2099-12-31”晚于今天，完成日期不能是将来的日期",
        "第6行 项目编号：不能为空",
        "第6行 面积(亩)：面积须大于0，而不是“-1”",
    ]
    assert db_counts() == before


def test_unreadable_file(tmp_path):
    # given
    path = tmp_path / "台账.csv"
    path.write_bytes(b"\xff\xfe\x00\xd8\x00\xdc\x81")
    # when
    errors = run_failing(path)
    # then
    assert errors == ["无法识别文件编码，请以 UTF-8 或 GB18030（ANSI）编码保存 CSV。"]


# -- re-import -------------------------------------------------------------------------------


def first_ledger() -> list[dict]:
    """One project in three nodes, with two disposal methods."""
    project = {"处置方式": "收储收回+嫁接盘活", "面积(亩)": "50+6.3"}
    return [
        ledger_row(**project),
        ledger_row(节点序号="2", 节点名称="签订收储协议", 计划完成日期="2026-04-10", **project),
        ledger_row(节点序号="3", 节点名称="土地挂牌", 计划完成日期="2026-06-30", **project),
    ]


def test_reimport_updates_in_place_with_history_and_reports_what_the_file_lacks(tmp_path):
    # given
    run(write_csv(tmp_path / "v1.csv", first_ledger()))
    project = Project.objects.get(code="FX-001")
    node1, node2, node3 = project.nodes.order_by("seq")
    second = [
        ledger_row(
            项目名称="某机械厂收储（调整）",
            处置方式="收储收回+自主提升",
            计划完成日期="2026-03-20",
            **{"面积(亩)": "52+4.3"},
        ),
        ledger_row(
            项目名称="某机械厂收储（调整）",
            节点序号="2",
            节点名称="签订收储协议",
            计划完成日期="2026-04-10",
            处置方式="自主提升+收储收回",
            完成日期="2026/4/8",
            **{"面积(亩)": "4.3+52"},
        ),
        ledger_row(
            项目名称="某机械厂收储（调整）",
            节点序号="4",
            节点名称="交付使用",
            计划完成日期="2026-09-30",
            处置方式="收储收回+自主提升",
            **{"面积(亩)": "52+4.3"},
        ),
    ]
    # when
    out, err = run(write_csv(tmp_path / "v2.csv", second))
    # then
    assert err == ""
    assert out.splitlines() == [
        "台账导入完成。",
        "项目：新建0个，更新1个，无变化0个",
        "节点：新建1个，更新2个，无变化0个",
        "更新项目：FX-001",
        "系统中有而台账中没有的节点1个（未删除，请核对）：",
        "  FX-001-3 土地挂牌",
        "警告：项目“FX-001”在系统中的处置方式“嫁接盘活”（6.30亩）台账中没有，已保留，请核对",
        # Node 1 moved from 2026-03-10 to 2026-03-20, still open, before today: a yellow card.
        "警告：第2行：节点“FX-001-1 完成土地测绘”的新计划完成日期2026-03-20早于今天，"
        "下一次巡查将补记一张黄牌，扣1分。",
    ]
    project.refresh_from_db()
    assert project.name == "某机械厂收储（调整）"
    assert project.history.count() == 2
    assert list(project.disposal_lines.order_by("id").values_list("method", "area_mu")) == [
        (DisposalMethod.TAKEBACK, Decimal("52.00")),
        (DisposalMethod.GRAFTING, Decimal("6.30")),
        (DisposalMethod.SELF_UPGRADE, Decimal("4.30")),
    ]
    assert list(project.nodes.order_by("seq").values_list("pk", "seq")) == [
        (node1.pk, 1),
        (node2.pk, 2),
        (node3.pk, 3),
        (Node.objects.get(seq=4).pk, 4),
    ]
    node1.refresh_from_db()
    assert node1.due_date == dt.date(2026, 3, 20)
    history = list(node1.history.order_by("history_id"))
    assert [(h.due_date, h.history_change_reason, h.history_user) for h in history] == [
        (dt.date(2026, 3, 10), "台账导入", system_user()),
        (dt.date(2026, 3, 20), "台账导入", system_user()),
    ]
    event = NodeEvent.objects.get(node=node1)
    assert (event.kind, event.data) == (
        NodeEventKind.DUE_CHANGED,
        {"old": "2026-03-10", "new": "2026-03-20"},
    )
    node2.refresh_from_db()
    assert (node2.completed_at, node2.progress) == (end_of_day(2026, 4, 8), 100)
    assert node2.history.count() == 2


def test_reimport_of_the_same_file_changes_nothing(tmp_path):
    # given
    path = write_csv(tmp_path / "台账.csv", first_ledger())
    run(path)
    before = db_counts()
    history = Node.history.count() + Project.history.count() + DisposalLine.history.count()
    # when
    out, _err = run(path)
    # then
    assert out.splitlines() == [
        "台账导入完成。",
        "项目：新建0个，更新0个，无变化1个",
        "节点：新建0个，更新0个，无变化3个",
    ]
    assert db_counts() == before
    assert Node.history.count() + Project.history.count() + DisposalLine.history.count() == history


def test_escalation_is_refreshed_for_every_node_whose_facts_the_ledger_changed(tmp_path):
    """A node whose planned date the ledger moves, or that it creates, is worked out again by
    the next sweep (its escalation instant is cleared); an untouched node keeps its instant."""
    # given
    run(write_csv(tmp_path / "v1.csv", first_ledger()))
    worked_out = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    Node.objects.update(next_escalation_at=worked_out)
    second = first_ledger()
    second[1]["计划完成日期"] = "2026-05-10"
    second.append({**second[0], "节点序号": "9", "节点名称": "新节点"})
    # when
    run(write_csv(tmp_path / "v2.csv", second))
    # then
    assert dict(Node.objects.values_list("seq", "next_escalation_at")) == {
        **{seq: worked_out for seq in Node.objects.values_list("seq", flat=True)},
        2: None,
        9: None,
    }


def test_completed_node_stays_complete_when_the_ledger_has_no_date(tmp_path):
    # given
    node = NodeFactory(
        project__code="FX-001",
        project__locality__name="三河镇",
        seq=1,
        completed_at=dt.datetime(2026, 3, 8, 10, 30, tzinfo=SHANGHAI),
        progress=100,
    )
    # when
    run(write_csv(tmp_path / "台账.csv", [ledger_row()]))
    # then
    node.refresh_from_db()
    assert node.completed_at == dt.datetime(2026, 3, 8, 10, 30, tzinfo=SHANGHAI)


def test_completed_node_with_the_same_day_in_the_ledger_is_kept(tmp_path):
    # given
    completed_at = dt.datetime(2026, 3, 8, 10, 30, tzinfo=SHANGHAI)
    node = NodeFactory(
        project__code="FX-001",
        project__locality__name="三河镇",
        seq=1,
        completed_at=completed_at,
    )
    # when
    run(write_csv(tmp_path / "台账.csv", [ledger_row(完成日期="2026-03-08")]))
    # then
    node.refresh_from_db()
    assert node.completed_at == completed_at


def test_completed_node_with_another_day_in_the_ledger_is_an_error(tmp_path):
    # given
    node = NodeFactory(
        project__code="FX-001",
        project__locality__name="三河镇",
        seq=1,
        completed_at=dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC),  # 3-9 in Shanghai
    )
    path = write_csv(
        tmp_path / "台账.csv",
        [ledger_row(完成日期="2026-03-08"), ledger_row(节点序号="2", 完成日期="2026-03-08")],
    )
    before = db_counts()
    # when
    errors = run_failing(path)
    # then
    assert errors == ["第2行 完成日期：与系统中已办结时间不一致（系统中为2026-03-09）"]
    assert db_counts() == before
    node.refresh_from_db()
    assert node.completed_at == dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC)
    assert node.history.count() == 1


# -- dry run and the service -------------------------------------------------------------------


def test_dry_run_reports_the_same_summary_and_writes_nothing(tmp_path, existing_data):
    # given
    path = write_csv(tmp_path / "台账.csv", first_ledger())
    before = db_counts()
    # when
    out, err = run(path, "--dry-run")
    # then
    assert err == ""
    assert out.splitlines() == [
        "试运行：校验通过，以下是将要导入的内容，数据库未作任何修改。",
        "项目：新建1个，更新0个，无变化0个",
        "节点：新建3个，更新0个，无变化0个",
        "新建项目：FX-001",
        "新建责任单位2个：三河镇、县自然资源局",
        "新建企业1个：合肥某机械有限公司",
    ]
    assert db_counts() == before
    assert Project.history.filter(code="FX-001").count() == 0


def test_dry_run_with_errors_fails_too(tmp_path):
    # given
    path = write_csv(tmp_path / "台账.csv", [ledger_row(计划完成日期="")])
    # when
    errors = run_failing(path, "--dry-run")
    # then
    assert errors == ["第2行 计划完成日期：不能为空"]
    assert db_counts() == {
        "Project": 0,
        "Node": 0,
        "Unit": 0,
        "Enterprise": 0,
        "DisposalLine": 0,
    }


def test_service_reads_an_open_file_and_names_its_actor(tmp_path):
    # given
    actor = UserFactory(username="dcb", full_name="督查办")
    path = write_xlsx(tmp_path / "台账.xlsx", [ledger_row()])
    # when
    with open(path, "rb") as f:
        result = ledger_import(path_or_file=f, actor=actor)
    # then
    assert (result.ok, result.projects_created, result.nodes_created) == (
        True,
        ["FX-001"],
        ["FX-001-1"],
    )
    assert Node.objects.get().history.get().history_user == actor
    assert Project.objects.get().history.get().history_user == actor


def test_a_float_area_within_rounding_noise_reads_as_two_places_and_parks_by_name(tmp_path):
    """An Excel SUM shows 0.3 but holds 0.30000000000000004; 新城工业园 is a park."""
    from decimal import Decimal

    import openpyxl
    from django.core.management import call_command

    from organization.models import Unit
    from projects.models import DisposalLine

    # given
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        [
            "项目编号",
            "项目名称",
            "乡镇园区",
            "处置方式",
            "面积(亩)",
            "节点序号",
            "节点名称",
            "责任单位",
            "计划完成日期",
        ]
    )
    sheet.append(
        [
            "XC-1",
            "新城项目",
            "新城工业园",
            "收储收回",
            0.1 + 0.2,
            1,
            "摸底调查",
            "县自然资源局",
            "2026-12-01",
        ]
    )
    path = tmp_path / "float.xlsx"
    book.save(path)
    # when
    call_command("import_ledger", str(path), stdout=io.StringIO())
    # then
    assert DisposalLine.objects.get().area_mu == Decimal("0.30")
    assert Unit.objects.get(name="新城工业园").kind == "park"
