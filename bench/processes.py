"""Server processes under test: start, time to first answer, memory of the whole tree, stop.

Each server runs in its own session (process group) so stopping it ends its
workers and helpers too, and nothing else.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from bench.common import REPO_ROOT

BIN = Path(sys.executable).parent
READY_PATH = "/api/2.0/mlflow/experiments/get?experiment_id=0"
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(system: str, db_path: str, port: int) -> list[str]:
    """The command line of each system, with its default settings."""
    uri = f"sqlite:///{db_path}"
    if system == "headwater":
        return [str(BIN / "headwater"), "server", "--backend-store-uri", uri, "--port", str(port)]
    if system == "mlflow":
        return [str(BIN / "mlflow"), "server", "--backend-store-uri", uri, "--port", str(port)]
    if system == "mlflow-w1":
        return [str(BIN / "mlflow"), "server", "--backend-store-uri", uri, "--port", str(port), "--workers", "1"]
    if system == "http-floor":
        return [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--port", str(port), "--no-access-log"]
    raise ValueError(system)


class ServerProcess:
    def __init__(self, system: str, folder: str, db_path: str):
        self.system = system
        self.folder = folder
        self.db_path = db_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> float:
        """Start the server; seconds until it first answered an API call."""
        os.makedirs(self.folder, exist_ok=True)
        env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
                   PYTHONPATH=str(REPO_ROOT))
        self._log = open(os.path.join(self.folder, f"{self.system}.log"), "ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(command(self.system, self.db_path, self.port), cwd=self.folder, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + START_TIMEOUT_S
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.system} exited with {self.proc.returncode}: {self.log_tail()}")
                try:
                    if session.get(self.base + READY_PATH, timeout=5).status_code == 200:
                        return time.perf_counter() - started
                except requests.RequestException:
                    pass
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.system} did not answer within {START_TIMEOUT_S} s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = Path(self.folder, f"{self.system}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def memory(self) -> dict[str, float]:
        """Resident memory of the server and all its descendants (RSS summed, and PSS)."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        procs = [root, *root.children(recursive=True)]
        rss = pss = 0
        counted = 0
        for p in procs:
            try:
                info = p.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            counted += 1
        return {"rss_mb": rss / 2**20, "pss_mb": pss / 2**20, "processes": counted}

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's whole process tree."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            total += t.user + t.system + t.children_user + t.children_system
        return total

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        # Workers of the group may outlive the leader for a moment; end stragglers.
        deadline = time.time() + 10
        while time.time() < deadline + 5:  # (zombies nobody reaps would answer forever)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL if time.time() > deadline else 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.proc = None
        if self._log:
            self._log.close()


def copy_sqlite(src: str, dst: str) -> None:
    """Copy a closed SQLite database, its write-ahead log folded in first."""
    with sqlite3.connect(src) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
