"""A real S3-compatible HTTP server for the S3 tests: moto's standalone server.

``moto_server`` is ``python -m moto.server`` in a subprocess on a free
loopback port, one per session (per xdist worker); nothing is mocked inside
the test process. ``s3_env`` points boto3 at it through the environment
variables a user sets. ``s3_bucket`` is a fresh bucket for one test.
"""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from headwater_artifacts_s3.testing import CREDENTIALS, MotoServer, start_moto


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory) -> Iterator[MotoServer]:
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def s3_env(moto_server, monkeypatch) -> MotoServer:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HEADWATER_S3_ENDPOINT_URL", moto_server.endpoint)
    return moto_server


@pytest.fixture
def s3_bucket(s3_env) -> str:
    name = f"hw-{uuid.uuid4().hex[:16]}"
    s3_env.client().create_bucket(Bucket=name)
    return name


# -- a headwater server process ---------------------------------------------------------------
class HeadwaterServer:
    """``headwater server <args>`` in a subprocess on a free port; ``stop()`` ends it."""

    def __init__(self, args: list[str], env: dict[str, str], cwd, log_path):
        import os
        import subprocess
        import sys

        from headwater_artifacts_s3.testing import _free_port

        self.port = _free_port()
        self.log_path = log_path
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_SERVER_")}
        full_env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", **env)
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from headwater.cli import main; main()", "server", *args,
                 "--port", str(self.port)],
                cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, timeout: float = 60.0) -> "HeadwaterServer":
        import time

        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not come up:\n{self.log()}")

    def stop(self) -> None:
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def start_headwater_server(tmp_path_factory):
    """``start(*args, env=...)`` -> a running :class:`HeadwaterServer`; all stopped after the module."""
    started: list[HeadwaterServer] = []

    def start(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> HeadwaterServer:
        folder = tmp_path_factory.mktemp("server")
        server = HeadwaterServer(list(args), env or {}, folder, folder / "server.log")
        started.append(server)
        return server.wait_until_up() if wait else server

    yield start
    for server in started:
        server.stop()
