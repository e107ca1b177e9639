"""A project whose script logs with both Headwater's API and MLflow's client ends as one run.

Both clients must talk to the same store through the same URI, so this test
runs a real ``headwater server`` and points the project at it over HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest
import requests
from projects_helpers import HEADWATER, run_cli

from headwater.entities import RunStatus

SCRIPT = """
import headwater
import mlflow

headwater.log_metric("from_headwater", 1.5)
headwater.log_param("hw_param", "h")
with mlflow.start_run():  # resumes the run named by MLFLOW_RUN_ID
    mlflow.log_metric("from_mlflow", 2.5)
    mlflow.log_param("mlflow_param", "m")
    mlflow.set_tag("client", "mlflow")
headwater.log_metric("from_headwater", 3.0, step=1)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_uri(tmp_path):
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    process = subprocess.Popen(
        [HEADWATER, "server", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "artifacts"), "--port", str(port)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if requests.get(f"{uri}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield uri
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_headwater_and_mlflow_clients_log_into_one_finished_run(make_project, server_uri):
    pytest.importorskip("mlflow")
    root = make_project({"MLproject": "entry_points:\n  main:\n    command: python mixed.py\n", "mixed.py": SCRIPT})
    env = {"HEADWATER_TRACKING_URI": server_uri, "MLFLOW_TRACKING_URI": server_uri,
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    done = run_cli("run", str(root), "--experiment-name", "mixed", env=env, timeout=240)
    assert done.returncode == 0, done.stderr

    from headwater.tracking.client import Client

    client = Client(server_uri)
    experiment = client.get_experiment_by_name("mixed")
    (run,) = client.search_runs([experiment.experiment_id]).items
    assert run.info.status == RunStatus.FINISHED
    assert run.data.metrics == {"from_headwater": 3.0, "from_mlflow": 2.5}
    assert run.data.params == {"hw_param": "h", "mlflow_param": "m"}
    assert run.data.tags["client"] == "mlflow"
    assert run.data.tags["mlflow.source.type"] == "PROJECT"
    assert [m.value for m in client.get_metric_history(run.info.run_id, "from_headwater")] == [1.5, 3.0]
