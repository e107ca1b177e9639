"""Real server processes on loopback for the server tests.

``start_server(*args, env=..., cwd=...)`` runs ``headwater server`` in a
subprocess on a free port and waits for ``/health``; every process it starts
is stopped at the end of the session. ``tracking_server`` is one shared server
on a SQLite database of this session, with the artifact proxy on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

_STARTUP_TIMEOUT = 60.0
_CLI = "from headwater.cli import main; main()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A ``headwater server`` subprocess and the URLs to reach it."""

    process: subprocess.Popen
    port: int
    log_path: Path
    cwd: Path
    static_prefix: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.static_prefix}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/2.0/mlflow"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until_up(self, timeout: float = _STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer /health within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _launch(args: list[str], cwd: Path, env: dict[str, str] | None, port: int, log_path: Path) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_SERVER_")}
    full_env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    full_env.update(env or {})
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", _CLI, *args],
            cwd=cwd,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``headwater server <args> --port <free port>``; stopped at session end.

    Pass ``cwd`` for the working directory (default: a fresh temporary one),
    ``env`` for extra environment variables, ``command="ui"`` for ``headwater ui``,
    ``wait=False`` to return before the server is up.
    """
    started: list[ServerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
              command: str = "server", wait: bool = True, port: int | None = None) -> ServerProcess:
        workdir = cwd or tmp_path_factory.mktemp("server")
        port = port or free_port()
        log_path = tmp_path_factory.getbasetemp() / f"server-{port}-{uuid.uuid4().hex[:6]}.log"
        argv = [command, *args, "--port", str(port)]
        prefix = ""
        if "--static-prefix" in args:
            prefix = args[list(args).index("--static-prefix") + 1]
        server = ServerProcess(_launch(argv, workdir, env, port, log_path), port, log_path, workdir, prefix)
        started.append(server)
        if wait:
            server.wait_until_up()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def tracking_server(start_server: Callable[..., ServerProcess], tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    """One server for the session: SQLite in a temporary folder, artifact proxy on."""
    root = tmp_path_factory.mktemp("tracking-server")
    destination = root / "artifacts"
    server = start_server(
        "--backend-store-uri", f"sqlite:///{root / 'tracking.db'}",
        "--artifacts-destination", str(destination),
        cwd=root,
    )
    server.options.update(artifacts_destination=destination, root=root)
    return server


class Api:
    """Thin helper over ``requests`` for one API root: ``api.post("runs/create", {...})``."""

    def __init__(self, base: str, session: requests.Session | None = None):
        self.base = base.rstrip("/")
        self.http = session or requests.Session()

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.http.post(f"{self.base}/{path}", json=body if body is not None else {}, timeout=30, **kwargs)

    def get(self, path: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.base}/{path}", params=params, timeout=30, **kwargs)

    @staticmethod
    def ok(response: requests.Response) -> Any:
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        return response.json()

    @staticmethod
    def error(response: requests.Response) -> tuple[int, str, str]:
        """(status, error_code, message) of a JSON error answer."""
        assert response.headers.get("content-type", "").startswith("application/json"), response.text
        body = response.json()
        assert {"error_code", "message"} <= set(body), body
        return response.status_code, body["error_code"], body["message"]

    # Shortcuts used by many tests.
    def create_experiment(self, name: str | None = None, **extra: Any) -> str:
        body = {"name": name or f"exp-{uuid.uuid4().hex[:10]}", **extra}
        return self.ok(self.post("experiments/create", body))["experiment_id"]

    def create_run(self, experiment_id: str, **extra: Any) -> dict[str, Any]:
        return self.ok(self.post("runs/create", {"experiment_id": experiment_id, **extra}))["run"]


@pytest.fixture(scope="session")
def api(tracking_server: ServerProcess) -> Api:
    """An :class:`Api` on the shared server's ``/api/2.0/mlflow``."""
    return Api(tracking_server.api)


@pytest.fixture(scope="session")
def make_api() -> type[Api]:
    """The :class:`Api` helper class, for servers a test starts itself."""
    return Api
