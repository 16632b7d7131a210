"""Journeys in a real browser: Debian's Chromium driven by Playwright for Python, headless.

The browser is never downloaded: where /usr/bin/chromium is missing the journeys are
skipped with the command that installs it. Screenshots go to test-artifacts/screenshots/.
"""

import datetime as dt
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

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
    """A browser tab at one size, with screenshots named after the test.

    Every response the tab receives is watched: a server error (5xx) fails the test even
    when the page that follows looks fine.
    """

    def __init__(self, browser, live_server, size: str, name: str):
        self.base = live_server.url
        self.size = size
        self.context = browser.new_context(
            viewport=SIZES[size], locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.name = re.sub(r"[^\w.-]+", "_", name)
        self.shots = 0
        for old in ARTIFACTS.glob(f"{self.name}-[0-9][0-9]-*.png"):
            old.unlink()  # a previous run's pictures of this tab, so the folder shows this run
        self.server_errors: list[str] = []
        self.page.on(
            "response",
            lambda r: r.status >= 500 and self.server_errors.append(f"{r.status} {r.url}"),
        )

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str, password: str = PASSWORD):
        page = self.go("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        return self.submit(page.locator("form:has(input[name=password]) button[type=submit]"))

    def logout(self):
        self.context.clear_cookies()

    def path(self) -> str:
        """Where the tab is, without the server's address."""
        return self.page.url.removeprefix(self.base)

    def arrived(self, path: str) -> None:
        """Wait until the tab has landed on `path` (after a redirect, say) and loaded it."""
        from playwright.sync_api import expect

        expect(self.page).to_have_url(self.base + path)
        self.page.wait_for_load_state()

    def text(self, selector: str = "main") -> str:
        """The visible text of the first element matching `selector`, blanks squeezed."""
        return " ".join(self.page.locator(selector).first.inner_text().split())

    def submit(self, button):
        """Click a button (or link) that leaves the page, and wait for the next one to load."""
        with self.page.expect_navigation():
            button.click()
        return self.page

    def toasts(self) -> list[str]:
        """The messages shown at the top of the page (已提交 and the like)."""
        return [" ".join(t.split()) for t in self.page.locator(".messages li").all_inner_texts()]

    def picture_width(self, img) -> int:
        """The natural width of a picture once the browser has loaded it (0 if it could not):
        scrolled into view first, since thumbnails load lazily."""
        img.scroll_into_view_if_needed()
        handle = img.element_handle()
        self.page.wait_for_function("img => img.complete", arg=handle)
        return handle.evaluate("img => img.naturalWidth")

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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so a failed journey leaves a screenshot."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def open_screen(browser, live_server, size, request):
    """Opens tabs at this test's size, each signed in on its own (a second person's tab);
    each leaves a screenshot when the test fails, and fails it on a server error."""
    screens: list[Screen] = []

    def open_(label: str = "") -> Screen:
        name = f"{request.node.originalname}-{size}" + (f"-{label}" if label else "")
        screens.append(Screen(browser, live_server, size, name))
        return screens[-1]

    yield open_
    report = getattr(request.node, "report_call", None)
    errors = [error for screen in screens for error in screen.server_errors]
    for screen in screens:
        if report is not None and report.failed:
            screen.shot("failed")
        screen.close()
    assert not errors, f"the server answered with an error: {errors}"


@pytest.fixture
def screen(open_screen):
    return open_screen()


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    """What the migrations put in the database and a flush between live-server tests removes:
    the system account the sweep writes as, and the default escalation rule."""
    from django.contrib.auth.hashers import make_password

    from organization.models import User
    from scoring.models import RuleVersion

    User.objects.get_or_create(
        username=settings.NODETRACK_SYSTEM_USERNAME,
        defaults={"full_name": "系统", "is_active": False, "password": make_password(None)},
    )
    RuleVersion.objects.get_or_create(
        effective_from=dt.date(2021, 1, 1),
        defaults={
            "yellow_points": Decimal("1.00"),
            "red_points": Decimal("2.00"),
            "base_score": Decimal("100.00"),
            "grace_workdays": 3,
            "reminder_days": [3, 1],
            "note": "默认规则",
        },
    )
