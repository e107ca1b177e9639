"""A ``headwater server`` subprocess on loopback for the UI tests and the UI benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


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
    deadline = time.monotonic() + 120
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
