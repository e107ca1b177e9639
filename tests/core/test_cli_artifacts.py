"""``headwater artifacts``: the commands MLflow's R package runs through MLFLOW_BIN.

Against a local SQLite store and artifact folder; the same commands through a
tracking server are tested in tests/plugins/rest_store/test_cli_over_server.py.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from headwater.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_TRACKING_URI", f"sqlite:///{tmp_path / 'tracking.db'}")
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    return tmp_path


@pytest.fixture
def run_id(env):
    from headwater.tracking.client import Client

    return Client().create_run("0").info.run_id


@pytest.fixture
def files(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "model.txt").write_text("weights")
    (src / "sub" / "notes.md").write_text("# notes")
    return src


def invoke(*args: str):
    result = CliRunner().invoke(main, ["artifacts", *args], catch_exceptions=False)
    return result


def test_log_artifact_then_list(run_id, files):
    result = invoke("log-artifact", "--local-file", str(files / "model.txt"), "--run-id", run_id)
    assert result.exit_code == 0, result.output
    listed = invoke("list", "--run-id", run_id)
    assert listed.exit_code == 0
    assert json.loads(listed.stdout) == [{"path": "model.txt", "is_dir": False, "file_size": 7}]


def test_log_artifacts_into_a_sub_path_and_list_it(run_id, files):
    result = invoke("log-artifacts", "-l", str(files), "-a", "bundle", "-r", run_id)
    assert result.exit_code == 0, result.output
    top = json.loads(invoke("list", "-r", run_id).stdout)
    assert top == [{"path": "bundle", "is_dir": True}]
    inner = json.loads(invoke("list", "-r", run_id, "-a", "bundle").stdout)
    assert inner == [{"path": "bundle/model.txt", "is_dir": False, "file_size": 7},
                     {"path": "bundle/sub", "is_dir": True}]


def test_download_by_run_prints_the_local_path_last(run_id, files, tmp_path):
    invoke("log-artifacts", "--local-dir", str(files), "--artifact-path", "bundle", "--run-id", run_id)
    result = invoke("download", "--run-id", run_id, "--artifact-path", "bundle/sub/notes.md",
                    "--dst-path", str(tmp_path / "dst"))
    assert result.exit_code == 0, result.output
    local = result.stdout.splitlines()[-1]
    assert local == str(tmp_path / "dst" / "bundle" / "sub" / "notes.md")
    assert open(local).read() == "# notes"


def test_download_a_whole_run_to_a_fresh_directory(run_id, files):
    invoke("log-artifacts", "--local-dir", str(files), "--run-id", run_id)
    local = invoke("download", "--run-id", run_id).stdout.splitlines()[-1]
    assert sorted(os.listdir(local)) == ["model.txt", "sub"]


def test_download_by_runs_uri_and_by_repository_uri(run_id, files, tmp_path):
    from headwater.tracking.client import Client

    invoke("log-artifacts", "--local-dir", str(files), "--artifact-path", "bundle", "--run-id", run_id)
    via_runs = invoke("download", "-u", f"runs:/{run_id}/bundle/model.txt", "-d", str(tmp_path / "a"))
    assert open(via_runs.stdout.splitlines()[-1]).read() == "weights"
    artifact_uri = Client().get_run(run_id).info.artifact_uri
    via_uri = invoke("download", "--artifact-uri", f"{artifact_uri}/bundle/sub", "-d", str(tmp_path / "b"))
    local = via_uri.stdout.splitlines()[-1]
    assert local == str(tmp_path / "b" / "sub")
    assert open(os.path.join(local, "notes.md")).read() == "# notes"


def test_download_needs_a_run_or_a_uri(env):
    result = CliRunner().invoke(main, ["artifacts", "download"])
    assert result.exit_code != 0
    assert "--run-id or --artifact-uri" in result.output


def test_errors_are_messages_not_tracebacks(env):
    result = CliRunner().invoke(main, ["artifacts", "list", "--run-id", "0" * 32])
    assert result.exit_code == 1
    assert "RESOURCE_DOES_NOT_EXIST" in result.output
    assert "Traceback" not in result.output


def test_unsafe_artifact_paths_are_refused(run_id, files):
    result = CliRunner().invoke(
        main, ["artifacts", "log-artifact", "-l", str(files / "model.txt"), "-r", run_id, "-a", "../../outside"]
    )
    assert result.exit_code == 1
    assert "INVALID_PARAMETER_VALUE" in result.output
