"""A live ``headwater server`` process for the REST store tests (one per test session).

The server runs on SQLite in a session temp folder. Tests empty the database
between them with the SQL store's reset helper instead of restarting the
server: the server keeps no state of its own, so it serves the emptied
database at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests


@dataclass
class ServerProcess:
    url: str
    backend_store_uri: str
    artifacts_destination: Path
    process: subprocess.Popen
    log_path: Path

    def reset(self) -> None:
        """Empty the database; the default experiment is back, active and named "Default"."""
        from headwater_store_sql.testing import reset_database

        reset_database(self.backend_store_uri)
        # reset_database keeps experiment 0 as the last test left it (perhaps deleted or renamed).
        api = f"{self.url}/api/2.0/mlflow/experiments"
        default = requests.get(f"{api}/get", params={"experiment_id": "0"}, timeout=10).json()["experiment"]
        if default["lifecycle_stage"] != "active":
            requests.post(f"{api}/restore", json={"experiment_id": "0"}, timeout=10).raise_for_status()
        if default["name"] != "Default":
            requests.post(f"{api}/update", json={"experiment_id": "0", "new_name": "Default"},
                          timeout=10).raise_for_status()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: Path, *extra_args: str, timeout: float = 30.0) -> ServerProcess:
    """Start ``headwater server`` on a free port and wait until /health answers."""
    port = free_port()
    backend = f"sqlite:///{folder / 'tracking.db'}"
    artifacts = folder / "artifacts"
    log_path = folder / "server.log"
    args = [
        sys.executable, "-c", "from headwater.cli import main; main()", "server",
        "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", backend, "--artifacts-destination", str(artifacts), *extra_args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TRACKING_URI")}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"headwater server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"headwater server did not answer within {timeout}s:\n{log_path.read_text()}")
        time.sleep(0.1)
    return ServerProcess(url, backend, artifacts, process, log_path)


def stop_server(server: ServerProcess) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("rest_server"))
    yield server
    stop_server(server)
    from headwater_store_sql.testing import dispose_engines

    dispose_engines()
