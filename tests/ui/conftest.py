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
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))  # ui_seed, shared with the test modules

CHROMIUM = os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("HEADWATER_UI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "headwater-ui-screenshots")

if not Path(CHROMIUM).exists():  # .ci/run installs it; say why rather than fail obscurely
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def pytest_terminal_summary(terminalreporter) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"UI screenshots: {SCREENSHOTS}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str  # with the static prefix, no trailing slash
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_server(workdir: Path, static_prefix: str = "") -> LiveServer:
    port = free_port()
    args = [sys.executable, "-c", "from headwater.cli import main; main()", "server", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{workdir / 'ui.db'}", "--artifacts-destination", str(workdir / "artifacts")]
    if static_prefix:
        args += ["--static-prefix", static_prefix]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_SERVER_")}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    log = workdir / "server.log"
    process = subprocess.Popen(args, cwd=workdir, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}{static_prefix}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')}")


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

    def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def xss_fired(self) -> bool:
        return bool(self.page.evaluate("() => window.__xss === 1"))


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
