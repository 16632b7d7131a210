"""Hostile ledger files: a size limit, a row limit and a decompression limit on the command
and the upload page; formulas never imported; long summaries cut with a count."""

import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ledger import parsing
from ledger.importing import ledger_import
from organization.models import User
from projects.models import Node
from tests.factories import UnitFactory, make_user
from tests.test_pages_ledger import NOW, ROWS, csv_file, stored, text, world, xlsx_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def office(client):
    user = make_user("supervisor", username="dcb")
    client.force_login(user)
    return user


BOMB_UNZIPPED = 64 * 1024 * 1024  # past the 50 MB limit; a real bomb declares gigabytes


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A well-formed workbook plus one member of zeros: ~64 KB that unpack to 64 MB."""
    good = xlsx_file().read()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            target.writestr(entry, source.read(entry))
        with target.open("xl/media/image1.bin", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(BOMB_UNZIPPED // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def _system() -> User:
    from django.conf import settings

    return User.objects.get(username=settings.NODETRACK_SYSTEM_USERNAME)


def test_the_bomb_is_small_and_declares_its_size(bomb):
    # then
    assert len(bomb) < 200 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("xl/media/image1.bin").file_size == BOMB_UNZIPPED


def test_a_zip_bomb_is_refused_by_the_command_from_its_directory_alone(
    bomb, tmp_path, monkeypatch, capsys
):
    """The declared sizes are read before openpyxl opens the file: nothing is inflated."""
    # given
    path = tmp_path / "台账.xlsx"
    path.write_bytes(bomb)
    before = world()

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    tracemalloc.start()
    started = time.perf_counter()
    # when
    with pytest.raises(CommandError) as refused:
        call_command("import_ledger", str(path))
    # then
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert str(refused.value) == "台账有1处错误，未导入任何数据。"
    assert capsys.readouterr().err.strip() == "Excel 文件解压后过大，无法导入。"
    assert peak < 10 * 1024 * 1024
    assert elapsed < 5
    assert world() == before


def test_a_zip_bomb_is_refused_by_the_upload_page_before_it_is_stored(client, office, bomb):
    # given
    before = world()
    # when
    response = client.post(
        reverse("ledger-upload"), {"file": SimpleUploadedFile("台账.xlsx", bomb)}
    )
    # then
    assert response.status_code == 200
    assert "Excel 文件解压后过大，无法导入。" in text(response)
    assert world() == before and stored() == []


def test_a_file_too_large_is_refused_by_the_command_unread(tmp_path, monkeypatch, capsys):
    # given
    monkeypatch.setattr(parsing, "MAX_FILE_BYTES", 1024 * 1024)
    path = tmp_path / "台账.csv"
    path.write_bytes(csv_file().read() + b"," * (1024 * 1024))
    before = world()
    # when
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path))
    # then
    assert capsys.readouterr().err.strip() == "文件超过1MB，台账文件不应这么大。"
    assert world() == before


def _many_rows(count: int) -> list[list[str]]:
    rows = []
    for index in range(count):
        row = list(ROWS[0])
        row[0], row[6] = f"FX-{index:03d}", "1"
        rows.append(row)
    return rows


@pytest.mark.parametrize("make", [csv_file, xlsx_file])
def test_more_rows_than_the_limit_are_refused_by_the_command(make, tmp_path, monkeypatch, capsys):
    # given: a title row (xlsx), the header and 4 rows, against a limit of 4 rows
    monkeypatch.setattr(parsing, "MAX_ROWS", 4)
    upload = make(_many_rows(4))
    path = tmp_path / upload.name
    path.write_bytes(upload.read())
    before = world()
    # when
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path))
    # then
    assert capsys.readouterr().err.strip() == "台账超过4行，无法导入；请分成几个文件。"
    assert world() == before


def test_more_rows_than_the_limit_are_refused_by_the_upload_page(client, office, monkeypatch):
    # given
    monkeypatch.setattr(parsing, "MAX_ROWS", 4)
    before = world()
    # when
    response = client.post(reverse("ledger-upload"), {"file": csv_file(_many_rows(4))})
    # then
    assert "台账超过4行，无法导入；请分成几个文件。" in text(response)
    assert world() == before and stored() == []


def test_rows_up_to_the_limit_are_read():
    # given: the header and 3 rows against a limit of 4
    data = csv_file(_many_rows(3)).read()
    # when
    table = parsing.read_table(io.BytesIO(data))
    # then
    assert [number for number, _cells in table] == [1, 2, 3, 4]


def test_a_cell_in_the_last_row_of_the_sheet_costs_no_million_row_checks():
    """openpyxl fills every missing row between two present ones; those are skipped as one."""
    # given
    book = openpyxl.Workbook()
    book.active["A1"] = "项目编号"
    book.active["A1048576"] = "x"
    out = io.BytesIO()
    book.save(out)
    started = time.perf_counter()
    # when
    table = parsing.read_table(io.BytesIO(out.getvalue()))
    # then
    assert time.perf_counter() - started < 5
    assert [(number, cells[0]) for number, cells in table] == [(1, "项目编号"), (1048576, "x")]


def test_cells_past_the_column_limit_are_not_read():
    # given
    book = openpyxl.Workbook()
    book.active["A1"] = "a"
    book.active["XFD1"] = "far"
    out = io.BytesIO()
    book.save(out)
    # when
    table = parsing.read_table(io.BytesIO(out.getvalue()))
    # then
    assert len(table) == 1
    assert table[0][1] == ["a"] + [None] * (parsing.MAX_COLUMNS - 1)


def _xlsx_with(cells: dict[str, tuple[str, str]]) -> bytes:
    """The page's two-row ledger as .xlsx, with cells replaced: {"H3": (value, data_type)}."""
    book = openpyxl.load_workbook(io.BytesIO(xlsx_file().read()))
    for coordinate, (value, data_type) in cells.items():
        book.active[coordinate] = value
        book.active[coordinate].data_type = data_type
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_formula_cell_is_refused_by_its_place(tmp_path, capsys):
    """A formula is never imported: not its text, nor the result Excel cached for it."""
    # given: row 3 is the first node (a title row, then the header)
    path = tmp_path / "台账.xlsx"
    path.write_bytes(
        _xlsx_with({"J3": ("=DATE(2026,12,10)", "f"), "H4": ('=HYPERLINK("http://x","y")', "f")})
    )
    before = world()
    # when
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path))
    # then
    assert capsys.readouterr().err.strip() == (
        "台账中有2个公式单元格（J3、H4）：请在 Excel 中复制后“选择性粘贴→数值”，再导入。"
    )
    assert world() == before


@pytest.mark.parametrize("typed", ["=1+1", "+86 138", "-张三", "@SUM(A1)"])
def test_text_starting_like_a_formula_is_kept_literally(tmp_path, typed):
    # given: typed text (not a formula) as the first node's name
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_xlsx_with({"H3": (typed, "s")}))
    # when
    result = ledger_import(path_or_file=path, actor=_system())
    # then
    assert result.errors == []
    assert Node.objects.get(project__code="FX-101", seq=1).name == typed


def test_csv_text_starting_like_a_formula_is_kept_literally(tmp_path):
    # given
    rows = [list(row) for row in ROWS]
    rows[0][7] = "=cmd|' /C calc'!A0"
    path = tmp_path / "台账.csv"
    path.write_bytes(csv_file(rows).read())
    # when
    result = ledger_import(path_or_file=path, actor=_system())
    # then
    assert result.errors == []
    assert Node.objects.get(project__code="FX-101", seq=1).name == "=cmd|' /C calc'!A0"


def test_a_long_list_of_codes_in_the_command_summary_is_cut_with_a_count(tmp_path, capsys):
    # given
    path = tmp_path / "台账.csv"
    path.write_bytes(csv_file(_many_rows(60)).read())
    # when
    call_command("import_ledger", str(path), "--dry-run")
    # then
    lines = capsys.readouterr().out.splitlines()
    (created,) = [line for line in lines if line.startswith("新建项目：")]
    codes = "、".join(f"FX-{index:03d}" for index in range(50))
    assert created == f"新建项目：{codes}……另有10个未列出"
    assert Node.objects.count() == 0


def test_a_long_list_in_the_preview_is_cut_with_a_count(client, office):
    # given
    UnitFactory(name="县自然资源局")
    # when
    client.post(reverse("ledger-upload"), {"file": csv_file(_many_rows(60))})
    page = text(client.get(reverse("ledger-upload")))
    # then
    codes = " ".join(f"FX-{index:03d}" for index in range(50))
    assert f"新建项目（60） {codes} ……另有10个未列出" in page
    assert "FX-050" not in page


def test_units_an_import_would_create_are_shown_for_the_office_to_confirm(client, office):
    # given
    UnitFactory(name="县自然资源局")
    # when
    client.post(reverse("ledger-upload"), {"file": csv_file()})
    page = text(client.get(reverse("ledger-upload")))
    # then
    assert (
        "新建责任单位（1） 三河镇 这些单位名称在系统中不存在，导入时将新建。"
        "如是已有单位的别称或笔误，请先修改台账再上传。"
    ) in page
