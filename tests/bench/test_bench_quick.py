"""The benchmark scripts run end to end in --quick mode (timings are not checked: they are no test).

What is checked: each run finishes, writes its JSON, and every system it measured
answered every workload (the scripts themselves check the answers' contents).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(module: str, tmp_path: Path, *extra: str) -> dict:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", module, "--quick", "--workdir", str(tmp_path), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1].removeprefix("results: "))
    data = json.loads(path.read_text())
    path.unlink()
    return data


def _missing(data: dict, systems: list[str]) -> list[tuple[str, str, str]]:
    """(workload, measure, system) of every figure a system lacks."""
    return [
        (row["workload"], row["measure"], system)
        for row in data["rows"]
        for system in systems
        if row["values"].get(system) is None
    ]


def test_store_benchmark_runs_quick(tmp_path):
    data = _run("bench.store", tmp_path)
    assert data["benchmark"] == "store"
    assert _missing(data, ["headwater", "mlflow"]) == []


def test_server_benchmark_runs_quick(tmp_path):
    data = _run("bench.server", tmp_path, "--systems", "headwater,mlflow-w1")
    assert data["benchmark"] == "server"
    assert _missing(data, ["headwater", "mlflow-w1"]) == []
    # The HTTP floor answers the write workloads too, the storage floor the inserts.
    writes = [r for r in data["rows"] if r["workload"].startswith(("create_run", "log_metric", "log_batch"))]
    assert writes and all(r["values"].get("http-floor") is not None for r in writes)
    assert data["rows"] and any(r["values"].get("storage-floor") for r in data["rows"])
