"""bench.scoring runs end to end in --quick mode (timings are not checked: they are no test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_scoring_benchmark_runs_quick(tmp_path):
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bench.scoring", "--quick", "--workdir", str(tmp_path), "--single", "20",
         "--batches", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1].removeprefix("results: "))
    data = json.loads(path.read_text())
    path.unlink()
    assert data["benchmark"] == "scoring"
    missing = [(r["workload"], r["measure"], s) for r in data["rows"] for s in ("headwater", "mlflow")
               if r["values"].get(s) is None]
    assert missing == []
