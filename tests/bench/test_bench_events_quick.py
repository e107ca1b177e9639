"""bench.events runs end to end in --quick mode (its timings are no test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_events_benchmark_runs_quick(tmp_path):
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bench.events", "--quick", "--workdir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1].removeprefix("results: "))
    data = json.loads(path.read_text())
    path.unlink()
    rows = {(r["workload"], r["measure"]): r["values"] for r in data["rows"]}
    for system in ("none", "audit", "audit+webhooks+broker"):
        assert rows[("log_metric", "requests/s")][system] > 0
        assert rows[("log_batch", "metrics/s")][system] > 0
    assert rows[("outbox lag (broker subscriber)", "s p99 (goal < 1)")]["audit+webhooks+broker"] >= 0
    assert any("broker messages received: 130 of 130" in note for note in data["notes"]), data["notes"]
