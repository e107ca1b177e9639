"""Every Python example in the user guides runs as written, against a fresh store."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDES = ["getting-started.md", "tracking.md"]


def python_blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), re.S)


@pytest.mark.parametrize("guide", GUIDES)
def test_examples_run(guide, tmp_path):
    blocks = python_blocks(guide)
    assert blocks, f"{guide} has no Python examples"
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(blocks))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HEADWATER_TRACKING_URI": f"sqlite:///{tmp_path / 'docs.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
