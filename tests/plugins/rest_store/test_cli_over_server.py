"""``headwater artifacts`` run as MLflow's R package runs it (a subprocess, MLFLOW_TRACKING_URI
set, the local path read from the last line) against a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from headwater_store_rest import HttpConfig, RestStore


def headwater(server_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TRACKING_URI")}
    env["MLFLOW_TRACKING_URI"] = server_url
    return subprocess.run(
        [sys.executable, "-c", "from headwater.cli import main; main()", "artifacts", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def run_id(rest_server):
    rest_server.reset()
    store = RestStore(rest_server.url, HttpConfig(max_retries=0))
    run_id = store.create_run("0").info.run_id
    store.close()
    return run_id


def test_log_list_and_download_like_the_r_package(rest_server, run_id, tmp_path):
    model = tmp_path / "model"
    (model / "data").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "data" / "w.bin").write_bytes(b"\x00\x01" * 1000)
    single = tmp_path / "metrics.csv"
    single.write_text("a,b\n1,2\n")

    logged = headwater(rest_server.url, "log-artifact", "--local-file", str(single), "--run-id", run_id)
    assert logged.returncode == 0, logged.stderr
    logged = headwater(rest_server.url, "log-artifacts", "--local-dir", str(model), "--artifact-path", "model",
                       "--run-id", run_id)
    assert logged.returncode == 0, logged.stderr

    listed = headwater(rest_server.url, "list", "--run-id", run_id)
    assert json.loads(listed.stdout) == [{"path": "metrics.csv", "is_dir": False, "file_size": 8},
                                         {"path": "model", "is_dir": True}]

    downloaded = headwater(rest_server.url, "download", "--run-id", run_id, "--artifact-path", "model",
                           "--dst-path", str(tmp_path / "dst"))
    assert downloaded.returncode == 0, downloaded.stderr
    local = downloaded.stdout.strip().splitlines()[-1]
    assert open(os.path.join(local, "data", "w.bin"), "rb").read() == b"\x00\x01" * 1000

    by_uri = headwater(rest_server.url, "download", "-u", f"runs:/{run_id}/metrics.csv")
    assert open(by_uri.stdout.strip().splitlines()[-1]).read() == "a,b\n1,2\n"

    # The files went through the proxy into the server's artifacts destination.
    assert any(p.name == "w.bin" for p in rest_server.artifacts_destination.rglob("*"))


def test_an_unknown_run_fails_with_the_server_error(rest_server):
    result = headwater(rest_server.url, "list", "--run-id", "f" * 32)
    assert result.returncode == 1
    assert "RESOURCE_DOES_NOT_EXIST" in result.stderr
