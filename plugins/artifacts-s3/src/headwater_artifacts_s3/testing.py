"""An S3-compatible server for tests and benchmarks: moto's standalone server in a subprocess.

Needs ``moto[server]`` installed (a test requirement, not a dependency of the
plugin). Nothing is mocked inside the calling process: boto3 talks HTTP to
the server on a loopback port, as it would to any S3-compatible storage.

    server = start_moto(tmp_dir)
    server.client().create_bucket(Bucket="b")
    os.environ.update(server.environment())   # what a user would set
    ...
    server.stop()
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "headwater-test",
    "AWS_SECRET_ACCESS_KEY": "headwater-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MotoServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """Variables pointing boto3 (Headwater's and MLflow's S3 repositories) at this server."""
        return {**CREDENTIALS, "HEADWATER_S3_ENDPOINT_URL": self.endpoint, "MLFLOW_S3_ENDPOINT_URL": self.endpoint}

    def client(self, service: str = "s3", **credentials: str) -> Any:
        import boto3

        keys = {"aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"], **credentials}
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1", **keys)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_moto(log_dir: Path, env: dict[str, str] | None = None, timeout: float = 30.0) -> MotoServer:
    """Start ``python -m moto.server`` on a free loopback port and wait until it answers.

    ``env`` adds variables, e.g. ``{"INITIAL_NO_AUTH_ACTION_COUNT": "3"}`` to make
    moto check credentials after its first three calls.
    """
    port = _free_port()
    log_path = Path(log_dir) / f"moto-{port}.log"
    full_env = {**os.environ, **CREDENTIALS, **(env or {})}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True,
        )
    server = MotoServer(process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited:\n{server.log()}")
        try:
            requests.get(server.endpoint, timeout=5)
            return server
        except requests.RequestException:  # not listening yet, or slow on a busy machine
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"moto server did not answer within {timeout}s:\n{server.log()}")
