"""PDFs are drawn from the app's own static files only, and WeasyPrint loads on first use."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.pdf import BASE_URL, ForbiddenFetch, _fetcher_class, pdf_bytes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/static/nodetrack/site.css",
        f"{BASE_URL}media/secret.pdf",
        f"{BASE_URL}static/nodetrack/no-such-file.css",
        "file:///etc/passwd",
    ],
)
def test_the_fetcher_refuses_anything_but_the_apps_static_files(url):
    with pytest.raises(ForbiddenFetch):
        _fetcher_class()().fetch(url)


def test_the_fetcher_serves_a_static_file_with_its_type():
    response = _fetcher_class()().fetch(f"{BASE_URL}static/nodetrack/site.css")
    body = response.read() if hasattr(response, "read") else response.body
    assert body == (ROOT / "nodetrack/static/nodetrack/site.css").read_bytes()


def test_a_page_is_drawn_as_a_pdf():
    assert pdf_bytes("<html><body><p>节点督办</p></body></html>")[:5] == b"%PDF-"


def test_weasyprint_is_not_imported_until_a_pdf_is_drawn():
    """Loading every URL of the app does not import WeasyPrint (half a second per process)."""
    code = (
        "import sys, django; django.setup(); from django.urls import resolve; resolve('/');"
        "print('weasyprint' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "nodetrack.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr[-2000:]
