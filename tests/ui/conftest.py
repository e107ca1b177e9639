"""Real-browser tests of the web UI: Playwright driving Debian's Chromium.

One ``headwater server`` subprocess per session (per xdist worker) on its own
SQLite database, seeded through the REST API (``ui_seed.py``). Every page a
test opens gets a dialog handler and a script-error collector, and after the
test ``window.__xss`` must still be unset: the seeded payloads set it if a
browser ever runs them. Screenshots go to ``HEADWATER_UI_SCREENSHOTS`` (default
``<tmp>/headwater-ui-screenshots``), printed at the end of the run.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ui_seed and ui_server, shared with the test modules
from ui_server import LiveServer, start_server  # noqa: E402

CHROMIUM = os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INJECTED = (
    "() => document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror], [onload],"
    " script:not([src]), a[href^=\"javascript\"]').length"
)
SCREENSHOTS = Path(os.environ.get("HEADWATER_UI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "headwater-ui-screenshots")

if not Path(CHROMIUM).exists():  # .ci/run installs it; say why rather than fail obscurely
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def pytest_terminal_summary(terminalreporter) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"UI screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("ui-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seeded(live_server):
    from ui_seed import seed

    return seed(live_server.url)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class UiPage:
    """A browser tab on the UI that records dialogs and script errors."""

    def __init__(self, page, base_url: str, test_name: str):
        self.page = page
        self.base = base_url
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.shots = 0
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, hash_path: str = "#/", wait_for: str | None = None):
        """Open a route and wait until the page says it rendered it."""
        path = hash_path.split("?")[0].lstrip("#") or "/"
        self.page.goto(f"{self.base}/{hash_path}")
        self.page.wait_for_function("p => document.getElementById('main').dataset.rendered === p", arg=path)
        if wait_for:
            self.page.wait_for_selector(wait_for)
        return self.page

    def rendered(self, path: str) -> None:
        self.page.wait_for_function("p => document.getElementById('main').dataset.rendered === p", arg=path)

    def rerendered(self, action) -> None:
        """Do ``action`` (a click, a key press) and wait until the page has rendered again."""
        before = self.page.evaluate("() => Number(document.getElementById('main').dataset.renders || 0)")
        action()
        self.page.wait_for_function(
            "n => Number(document.getElementById('main').dataset.renders || 0) > n", arg=before
        )

    def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def xss_fired(self) -> bool:
        return bool(self.page.evaluate("() => window.__xss === 1"))

    def assert_nothing_injected(self) -> None:
        """No payload ran, and none became an element or an attribute that could run."""
        assert self.page.evaluate(INJECTED) == 0
        assert not self.xss_fired()


@pytest.fixture
def ui(browser, live_server, request) -> Iterator[UiPage]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    wrapper = UiPage(page, live_server.url, request.node.name)
    yield wrapper
    try:
        assert not wrapper.xss_fired(), "a stored script payload ran in the browser"
        assert not wrapper.dialogs, f"unexpected dialogs: {wrapper.dialogs}"
        assert not wrapper.errors, f"script errors on the page: {wrapper.errors}"
    finally:
        context.close()


@pytest.fixture
def api(live_server):
    from ui_seed import Api

    return Api(live_server.url)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
