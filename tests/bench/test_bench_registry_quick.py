"""The registry benchmark runs end to end in --quick mode (timings are not checked: they are no test).

Each run checks every answer against its seed, so finishing with a figure for
every workload and system means both servers answered correctly.
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


def test_registry_benchmark_runs_quick(tmp_path):
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bench.registry", "--quick", "--workdir", str(tmp_path),
         "--systems", "headwater,mlflow-w1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1].removeprefix("results: "))
    data = json.loads(path.read_text())
    path.unlink()
    assert data["benchmark"] == "registry"
    missing = [(r["workload"], s) for r in data["rows"] for s in ("headwater", "mlflow-w1") if not r["values"].get(s)]
    assert missing == []
