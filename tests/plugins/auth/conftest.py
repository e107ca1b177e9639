"""An authenticated server application for the auth tests.

``auth_app`` builds the real server application with every installed plugin
(the web UI, the artifact proxy, auth…) on a SQLite database of its own, with
auth enabled through the environment as an operator would. ``call`` sends a
request as a given user through the whole ASGI stack (no network needed).
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

ADMIN = ("admin", "Root-Secret-1234")


@dataclass
class AuthApp:
    app: Any
    client: Any
    folder: Any
    backend_uri: str

    def call(self, method: str, path: str, who: tuple[str, str] | str | None = None, *,
             params: dict[str, Any] | None = None, json: Any = None, data: Any = None,
             headers: dict[str, str] | None = None) -> Any:
        all_headers = {"host": "localhost", **(headers or {})}
        if isinstance(who, tuple):
            all_headers["Authorization"] = "Basic " + base64.b64encode(f"{who[0]}:{who[1]}".encode()).decode()
        elif isinstance(who, str):
            all_headers["Authorization"] = f"Bearer {who}"
        return self.client.request(method, path, params=params, json=json, content=data, headers=all_headers)

    def ok(self, method: str, path: str, who: Any = ADMIN, **kwargs: Any) -> Any:
        response = self.call(method, path, who, **kwargs)
        assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def new_user(self, password: str = "User-Secret-5678") -> tuple[str, str]:
        username = f"user-{uuid.uuid4().hex[:8]}"
        self.ok("POST", "/api/2.0/mlflow/users/create", json={"username": username, "password": password})
        return username, password


def build_auth_app(folder, monkeypatch, **settings: str) -> AuthApp:
    from starlette.testclient import TestClient

    from headwater_server.app import create_app

    env = {"HEADWATER_AUTH": "1", "HEADWATER_AUTH_ADMIN_USERNAME": ADMIN[0],
           "HEADWATER_AUTH_ADMIN_PASSWORD": ADMIN[1], "HEADWATER_AUTH_CACHE_SECONDS": "0", **settings}
    for key in [k for k in os.environ if k.startswith(("HEADWATER_AUTH", "MLFLOW_AUTH", "HEADWATER_APP_NAME"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    backend = f"sqlite:///{folder / 'tracking.db'}"
    app = create_app(backend, artifacts_destination=str(folder / "artifacts"))
    return AuthApp(app, TestClient(app, base_url="http://localhost"), folder, backend)


@pytest.fixture
def auth_app(tmp_path, monkeypatch) -> Iterator[AuthApp]:
    """Auth on, default permission READ (MLflow's default)."""
    built = build_auth_app(tmp_path, monkeypatch)
    with built.client:
        yield built


@pytest.fixture
def strict_app(tmp_path, monkeypatch) -> Iterator[AuthApp]:
    """Auth on, default permission NO_PERMISSIONS: a user sees only what they were granted."""
    built = build_auth_app(tmp_path, monkeypatch, HEADWATER_AUTH_DEFAULT_PERMISSION="NO_PERMISSIONS")
    with built.client:
        yield built


@pytest.fixture
def make_auth_app(tmp_path, monkeypatch) -> Iterator[Any]:
    """``make(**settings)``: an app with extra auth environment settings (e.g. HEADWATER_AUTH_ALLOW_SIGNUP)."""
    made: list[AuthApp] = []

    def make(**settings: str) -> AuthApp:
        built = build_auth_app(tmp_path, monkeypatch, **settings)
        built.client.__enter__()
        made.append(built)
        return built

    yield make
    for built in made:
        built.client.__exit__(None, None, None)


# -- a real server process, for MLflow's own client -------------------------------------------------
@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """``headwater server --app-name basic-auth`` in a subprocess on SQLite; yields its URL."""
    import socket
    import subprocess
    import sys
    import time

    import requests

    folder = tmp_path_factory.mktemp("auth-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "MLFLOW_TRACKING"))}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", HEADWATER_AUTH_ADMIN_PASSWORD=ADMIN[1])
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from headwater.cli import main; main()", "server", "--app-name", "basic-auth",
             "--backend-store-uri", f"sqlite:///{folder / 'tracking.db'}",
             "--artifacts-destination", str(folder / "artifacts"), "--port", str(port)],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log_path.read_text()}")
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
