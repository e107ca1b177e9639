"""Fixtures for the contrib packages' tests: server processes and an HTTP receiver on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

_CLI = "from headwater.cli import main; main()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/2.0/mlflow"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return requests.post(f"{self.api}/{path}", json=body if body is not None else {}, timeout=30, **kwargs)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.api}/{path}", json=body, timeout=30)
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        return response.json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until_up(self, timeout: float = 60.0) -> None:
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
        raise RuntimeError(f"server did not come up:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no lease release."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``start_server(store_uri, env={...})``: ``headwater server`` in a process of its own group."""
    started: list[Server] = []

    def start(store_uri: str, env: dict[str, str] | None = None, port: int | None = None,
              wait: bool = True, args: tuple[str, ...] = ()) -> Server:
        port = port or free_port()
        log_path = tmp_path / f"server-{port}-{uuid.uuid4().hex[:6]}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_SERVER_", "HEADWATER_AUDIT"))}
        full_env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", HEADWATER_EVENTS_LEASE_SECONDS="3")
        full_env.update(env or {})
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", _CLI, "server", "--backend-store-uri", store_uri, "--port", str(port),
                 "--artifacts-destination", str(tmp_path / "artifacts"), *args],
                cwd=tmp_path, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        server = Server(process, port, log_path)
        started.append(server)
        if wait:
            server.wait_until_up()
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on loopback that records POSTs; ``responses`` scripts its answers."""

    port: int
    received: list[Received] = field(default_factory=list)
    # Each entry: (status, headers, delay seconds); used in order, the last one repeats.
    responses: list[tuple[int, dict[str, str], float]] = field(default_factory=lambda: [(200, {}, 0.0)])
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def next_response(self) -> tuple[int, dict[str, str], float]:
        with self.lock:
            return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]

    def wait_for(self, count: int, timeout: float = 30.0, predicate: Callable[[Received], bool] | None = None) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                matching = [r for r in self.received if predicate is None or predicate(r)]
                if len(matching) >= count or time.monotonic() > deadline:
                    return matching
                self.arrived.wait(0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, delay = state.next_response()
            if delay:
                time.sleep(delay)
            with state.arrived:
                state.received.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                state.arrived.notify_all()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
