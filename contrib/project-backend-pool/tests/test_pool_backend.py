"""The pool backend: found through its entry point, bounded concurrency, real child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import headwater.projects as projects
from headwater.entities import RunStatus
from headwater.plugins.manager import make_plugin_manager
from headwater.projects import ProjectError, ProjectRunFailed

HEADWATER = str(Path(sys.executable).with_name("headwater"))

# Appends its start and end times to a shared log, so the test can see overlap.
SLOT_PY = """
import json, os, sys, time
log = os.environ["SLOT_LOG"]
tag = sys.argv[sys.argv.index("--tag") + 1]
with open(log, "a") as out:
    out.write(json.dumps({"tag": tag, "event": "start", "t": time.time()}) + "\\n")
time.sleep(float(os.environ.get("SLOT_SECONDS", "0.5")))
with open(log, "a") as out:
    out.write(json.dumps({"tag": tag, "event": "end", "t": time.time()}) + "\\n")
sys.exit(int(os.environ.get("SLOT_EXIT", "0")))
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_TRACKING_URI", f"sqlite:///{tmp_path / 'tracking.db'}")
    monkeypatch.setenv("HEADWATER_PROJECTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SLOT_LOG", str(tmp_path / "slots.log"))
    for name in ("MLFLOW_TRACKING_URI", "HEADWATER_RUN_ID", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def project(env):
    root = env / "project"
    root.mkdir()
    (root / "MLproject").write_text(textwrap.dedent("""
        entry_points:
          main:
            parameters: {tag: string}
            command: "python slot.py --tag {tag}"
    """))
    (root / "slot.py").write_text(SLOT_PY)
    return root


@pytest.fixture
def client(env):
    from headwater.tracking.client import Client

    return Client(os.environ["HEADWATER_TRACKING_URI"])


def slot_events(env: Path) -> list[dict]:
    return [json.loads(line) for line in (env / "slots.log").read_text().splitlines()]


def test_pool_is_provided_through_the_entry_point():
    manager = make_plugin_manager()
    providers = manager.project_backend_providers()
    assert {"local", "pool"} <= set(providers)
    assert providers["pool"][1].distribution == "headwater-project-backend-pool"


def test_one_worker_runs_queued_runs_one_at_a_time(project, env, client, monkeypatch):
    monkeypatch.setenv("SLOT_SECONDS", "1")
    runs = [projects.run(str(project), parameters={"tag": str(i)}, backend="pool",
                         backend_config={"workers": 1}, synchronous=False) for i in range(3)]
    statuses_while_first_runs = {r.get_status() for r in runs[1:]}
    assert all(r.wait() for r in runs)
    assert statuses_while_first_runs == {RunStatus.SCHEDULED}
    events = slot_events(env)
    spans = {}
    for e in events:
        spans.setdefault(e["tag"], {})[e["event"]] = e["t"]
    ordered = sorted(spans.values(), key=lambda s: s["start"])
    for earlier, later in zip(ordered, ordered[1:]):
        assert earlier["end"] <= later["start"]  # never two at once
    for r in runs:
        run = client.get_run(r.run_id)
        assert run.info.status == RunStatus.FINISHED
        assert run.data.tags["mlflow.project.backend"] == "pool"


def test_two_workers_overlap(project, env, monkeypatch):
    monkeypatch.setenv("SLOT_SECONDS", "1.5")
    runs = [projects.run(str(project), parameters={"tag": str(i)}, backend="pool",
                         backend_config={"workers": 2}, synchronous=False) for i in range(2)]
    assert all(r.wait() for r in runs)
    starts = sorted(e["t"] for e in slot_events(env) if e["event"] == "start")
    ends = sorted(e["t"] for e in slot_events(env) if e["event"] == "end")
    assert starts[1] < ends[0]


def test_failed_command_and_cancelled_queue(project, env, client, monkeypatch):
    monkeypatch.setenv("SLOT_EXIT", "4")
    with pytest.raises(ProjectRunFailed):
        projects.run(str(project), parameters={"tag": "bad"}, backend="pool", backend_config={"workers": 1})
    monkeypatch.setenv("SLOT_EXIT", "0")
    monkeypatch.setenv("SLOT_SECONDS", "2")
    busy = projects.run(str(project), parameters={"tag": "busy"}, backend="pool",
                        backend_config={"workers": 1}, synchronous=False)
    queued = projects.run(str(project), parameters={"tag": "queued"}, backend="pool",
                          backend_config={"workers": 1}, synchronous=False)
    queued.cancel()
    assert busy.wait() is True
    assert client.get_run(queued.run_id).info.status == RunStatus.KILLED
    assert "queued" not in {e["tag"] for e in slot_events(env)}
    statuses = sorted(r.info.status.value for r in client.search_runs(["0"]).items)
    assert statuses == ["FAILED", "FINISHED", "KILLED"]


def test_bad_config_is_refused_before_a_run_exists(project, client):
    for config in ({"workers": 0}, {"workers": "many"}, {"wrokers": 2}):
        with pytest.raises(ProjectError, match="workers"):
            projects.run(str(project), parameters={"tag": "x"}, backend="pool", backend_config=config)
    assert list(client.search_runs(["0"]).items) == []


def test_cli_with_backend_config_file(project, env, client):
    config = env / "pool.json"
    config.write_text('{"workers": 1}')
    done = subprocess.run([HEADWATER, "run", str(project), "-b", "pool", "-c", str(config), "-P", "tag=cli"],
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    (run,) = client.search_runs(["0"]).items
    assert run.info.status == RunStatus.FINISHED and run.data.params == {"tag": "cli"}
    listing = subprocess.run([HEADWATER, "plugins", "--json"], capture_output=True, text=True, timeout=60)
    assert "project backend pool" in listing.stdout
