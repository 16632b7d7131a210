"""The supervision office, in the browser: it downloads the ledger from the project list as
the page filters it, uploads that file on the ledger page, and is told nothing would change."""

import pytest
from django.apps import apps

from demo.data import demo_load
from tests.browser.support import person, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world() -> dict:
    """Every row of every model an import could touch, history tables included."""
    return {
        model._meta.label: list(
            model.objects.order_by("pk").values_list(
                *(field.attname for field in model._meta.concrete_fields)
            )
        )
        for app in ("organization", "projects", "supervision", "scoring")
        for model in apps.get_app_config(app).get_models()
    }


def _counts(section) -> list[list[str]]:
    return [
        [" ".join(cell.split()) for cell in row.locator("th, td").all_inner_texts()]
        for row in section.locator("table.counts tr").all()
    ]


def test_an_exported_ledger_imports_back_with_no_change(screen, tmp_path):
    # given: the demo's three work streams, and the office
    demo_load()
    person("supervisor", username="office_sun", full_name="孙丽")
    page = screen.login("office_sun")

    # when: it filters the project list to one stream and downloads the ledger as Excel
    screen.go("/projects/")
    page.select_option("#id_work_stream", label="重点项目建设")
    screen.submit(page.get_by_role("button", name="筛选"))
    assert "work_stream=key-projects" in screen.path()
    link = page.get_by_role("link", name="导出台账（Excel）")
    assert "work_stream=key-projects" in link.get_attribute("href")
    assert screen.no_sideways_scroll()
    screen.shot("projects")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith("台账-")
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    before = _world()

    # when: it uploads that very file on the ledger page
    screen.go("/office/ledger/")
    page.set_input_files(
        "#id_file", upload(path.name, path.read_bytes(), "application/octet-stream")
    )
    screen.submit(page.get_by_role("button", name="上传并预览"))

    # then: the dry run says nothing would be created or changed
    screen.arrived("/office/ledger/")
    preview = page.locator("section.ledger-preview")
    assert _counts(preview) == [
        ["", "新建", "更新", "无变化"],
        ["项目", "0", "0", "3"],
        ["节点", "0", "0", "21"],
    ]
    assert preview.locator("details.section[open]").count() == 0
    assert screen.no_sideways_scroll()
    screen.shot("preview")

    # when: it confirms anyway
    screen.submit(preview.get_by_role("button", name="确认导入"))

    # then: imported, and not a row of the database changed
    screen.arrived("/office/ledger/")
    assert screen.toasts() == ["台账导入完成。"]
    assert _counts(page.locator("section.ledger-done")) == [
        ["", "新建", "更新", "无变化"],
        ["项目", "0", "0", "3"],
        ["节点", "0", "0", "21"],
    ]
    screen.shot("imported")
    assert _world() == before
