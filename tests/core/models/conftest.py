"""Fixtures for the model tests: real scikit-learn models, a tracking store per test, scoring servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from headwater.plugins.manager import reset_plugin_manager
from headwater.tracking import uri as uri_module

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

TRACKING_ENV = ("HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI", "HEADWATER_ARTIFACT_ROOT", "MLFLOW_ARTIFACT_ROOT",
                "HEADWATER_RUN_ID", "MLFLOW_RUN_ID", "HEADWATER_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID",
                "HEADWATER_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")


@pytest.fixture
def frame():
    return pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0, 1, 1, 0]})


@pytest.fixture
def linear(frame):
    """LinearRegression on y = 2a + 3b + 1."""
    target = 2 * frame["a"] + 3 * frame["b"] + 1
    return sklearn_linear.LinearRegression().fit(frame, target)


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A SQLite tracking store and artifact root of this test's own; no run left active."""
    import headwater

    for name in TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", uri)
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri_module.set_tracking_uri(None)
    reset_plugin_manager()
    yield uri
    while headwater.active_run() is not None:
        headwater.end_run()
    reset_plugin_manager()


# -- scoring servers on loopback -------------------------------------------------------------------
HEADWATER_CLI = "from headwater.cli import main; main()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScoringServer:
    def __init__(self, argv: list[str], port: int, log_path: Path, env: dict[str, str] | None = None):
        self.port = port
        self.log_path = log_path
        full_env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", **(env or {})}
        self.started = time.monotonic()
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                            start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, timeout: float = 120.0) -> float:
        """Seconds from launch until /ping answered 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scoring server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/ping", timeout=1).status_code == 200:
                    return time.monotonic() - self.started
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"scoring server not up within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def post(self, body: bytes | str, content_type: str | None = "application/json", route: str = "invocations"):
        headers = {} if content_type is None else {"Content-Type": content_type}
        return requests.post(f"{self.url}/{route}", data=body, headers=headers, timeout=30)


def headwater_serve(model_path: str, log_dir: Path, *extra: str, wait: bool = True) -> ScoringServer:
    port = free_port()
    argv = [sys.executable, "-c", HEADWATER_CLI, "models", "serve", "-m", model_path, "-p", str(port), *extra]
    server = ScoringServer(argv, port, log_dir / f"headwater-serve-{port}.log")
    if wait:
        server.wait_until_up()
    return server


def mlflow_serve(model_path: str, log_dir: Path, *extra: str, wait: bool = True) -> ScoringServer:
    port = free_port()
    mlflow_bin = str(Path(sys.executable).with_name("mlflow"))
    argv = [mlflow_bin, "models", "serve", "-m", model_path, "-p", str(port), "--env-manager", "local", *extra]
    # MLflow runs `uvicorn` from PATH: put this interpreter's scripts first.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    server = ScoringServer(argv, port, log_dir / f"mlflow-serve-{port}.log", env={"PATH": path})
    if wait:
        server.wait_until_up()
    return server


@pytest.fixture(scope="module")
def serve_model(tmp_path_factory):
    """Start ``headwater models serve -m <path> <extra>``; every server is stopped after the module."""
    started = []
    log_dir = tmp_path_factory.mktemp("scoring-logs")

    def start(model_path, *extra, wait=True):
        server = headwater_serve(str(model_path), log_dir, *extra, wait=wait)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def serve_with_mlflow(tmp_path_factory):
    """Start ``mlflow models serve -m <path> --env-manager local``; stopped after the module."""
    started = []
    log_dir = tmp_path_factory.mktemp("mlflow-scoring-logs")

    def start(model_path, *extra, wait=True):
        server = mlflow_serve(str(model_path), log_dir, *extra, wait=wait)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
