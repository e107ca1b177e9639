"""``headwater models registered|versions|alias`` through click's CliRunner, on a SQLite file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from headwater.cli import main
from headwater.plugins.manager import reset_plugin_manager
from headwater.registry import uri as registry_uri_module
from headwater.tracking import uri as uri_module
from headwater.tracking.client import Client


@pytest.fixture
def runner(tmp_path, monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "HEADWATER_REGISTRY_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_ARTIFACT_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEADWATER_TRACKING_URI", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri_module.set_tracking_uri(None)
    registry_uri_module.set_registry_uri(None)
    reset_plugin_manager()
    yield CliRunner()
    reset_plugin_manager()


def ok(runner, *args):
    result = runner.invoke(main, ["models", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def fails(runner, *args):
    result = runner.invoke(main, ["models", *args], catch_exceptions=False)
    assert result.exit_code != 0
    return result.output


def test_model_lifecycle(runner):
    assert "Created registered model 'churn'" in ok(runner, "registered", "create", "-n", "churn", "-d", "Churn",
                                                     "-t", "team=growth")
    ok(runner, "versions", "create", "-n", "churn", "-s", "s3://bucket/v1", "-t", "k=v")
    ok(runner, "versions", "create", "-n", "churn", "--source", "s3://bucket/v2", "--run-id", "abc")
    assert "now in stage Production" in ok(runner, "versions", "transition", "-n", "churn", "-v", "2",
                                           "-s", "production", "--archive-existing")
    ok(runner, "alias", "set", "-n", "churn", "-a", "champion", "-v", "2")
    described = json.loads(ok(runner, "registered", "describe", "-n", "churn", "--json"))
    assert described["aliases"] == {"champion": "2"} and described["tags"] == {"team": "growth"}
    assert {(v["version"], v["current_stage"]) for v in described["latest_versions"]} == {
        ("1", "None"), ("2", "Production"),
    }
    by_alias = json.loads(ok(runner, "alias", "get", "-n", "churn", "-a", "champion", "--json"))
    assert (by_alias["version"], by_alias["run_id"]) == ("2", "abc")
    listed = json.loads(ok(runner, "versions", "list", "-n", "churn", "--json", "-o", "version_number"))
    assert [v["version"] for v in listed] == ["1", "2"]
    assert "churn" in ok(runner, "registered", "list")
    ok(runner, "registered", "rename", "-n", "churn", "--new-name", "retention")
    ok(runner, "alias", "delete", "-n", "retention", "-a", "champion")
    ok(runner, "versions", "delete", "-n", "retention", "-v", "1")
    remaining = json.loads(ok(runner, "versions", "list", "--filter", "name = 'retention'", "--json"))
    assert [v["version"] for v in remaining] == ["2"]
    ok(runner, "registered", "delete", "-n", "retention", "--yes")
    assert json.loads(ok(runner, "registered", "list", "--json")) == []


def test_register_a_run_model_and_download_it(runner, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    client = Client()
    run_id = client.create_run("0").info.run_id
    client.log_artifacts(run_id, str(tmp_path / "model"), "model")
    ok(runner, "versions", "create", "-n", "from-run", "--model-uri", f"runs:/{run_id}/model", "-d", "first")
    shown = ok(runner, "versions", "describe", "-n", "from-run", "-v", "1")
    assert "first" in shown and run_id in shown
    local = ok(runner, "versions", "download", "-n", "from-run", "-v", "1", "-d", str(tmp_path / "out")).strip()
    assert (tmp_path / "out" / "MLmodel").exists() and local == str(tmp_path / "out")


def test_errors_are_one_line_with_the_code(runner):
    assert "RESOURCE_DOES_NOT_EXIST" in fails(runner, "registered", "describe", "-n", "missing")
    ok(runner, "registered", "create", "-n", "m")
    ok(runner, "versions", "create", "-n", "m", "-s", "s3://b")
    assert "Version alias name 'v1' is reserved" in fails(runner, "alias", "set", "-n", "m", "-a", "v1", "-v", "1")
    assert "Invalid Model Version stage" in fails(runner, "versions", "transition", "-n", "m", "-v", "1", "-s", "Prod")
    assert "exactly one of --source or --model-uri" in fails(runner, "versions", "create", "-n", "m")
    assert "KEY=VALUE" in fails(runner, "registered", "create", "-n", "x", "-t", "novalue")


def test_delete_asks_first(runner):
    ok(runner, "registered", "create", "-n", "keep-me")
    result = runner.invoke(main, ["models", "registered", "delete", "-n", "keep-me"], input="n\n")
    assert result.exit_code != 0
    assert "keep-me" in ok(runner, "registered", "list")
