"""Journeys in a real browser: Debian's Chromium driven by Playwright for Python, headless.

The browser is never downloaded: where /usr/bin/chromium is missing the journeys are
skipped with the command that installs it. Screenshots go to test-artifacts/screenshots/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("NODETRACK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "journey-pass-1"

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    if os.environ.get("NODETRACK_REQUIRE_BROWSER") == "1":
        # CI installs Chromium: there a missing browser is a failure, not a skip.
        raise pytest.UsageError(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    skip = pytest.mark.skip(
        reason=f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request) -> str:
    """Every journey runs at a desk and on a phone."""
    return request.param


class Screen:
    """A signed-in browser tab at one size, with screenshots named after the test."""

    def __init__(self, browser, live_server, size: str, test_name: str):
        self.base = live_server.url
        self.size = size
        self.context = browser.new_context(
            viewport=SIZES[size], locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.name = re.sub(r"[^\w.-]+", "_", test_name)
        self.shots = 0

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str, password: str = PASSWORD):
        page = self.go("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    def logout(self):
        self.context.clear_cookies()

    def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def no_sideways_scroll(self) -> bool:
        return self.page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
        )

    def close(self):
        self.context.close()


@pytest.fixture
def screen(browser, live_server, size, request):
    screen = Screen(browser, live_server, size, request.node.name)
    yield screen
    screen.close()
