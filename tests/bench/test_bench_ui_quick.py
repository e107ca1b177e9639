"""bench/ui.py runs end to end on tiny data (Headwater only: MLflow's UI alone takes minutes here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not Path(os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")).exists(), reason="no chromium")
def test_ui_benchmark_runs_quick(tmp_path):
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bench.ui", "--quick", "--workdir", str(tmp_path), "--systems", "headwater",
         "--runs", "120,300", "--points", "5000", "--repeat", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    path = Path(done.stdout.strip().splitlines()[-1].removeprefix("results: "))
    data = json.loads(path.read_text())
    path.unlink()
    assert data["benchmark"] == "ui"
    pages = [r for r in data["rows"] if not r["workload"].startswith("seed")]
    assert len(pages) == 5  # two tables and two sorted tables of two sizes, one chart
    assert all(r["values"].get("headwater") for r in pages), pages
