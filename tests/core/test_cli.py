"""The ``headwater`` command line, driven through click's CliRunner."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from headwater.cli import COMMANDS, main
from headwater.cli.db import redact
from headwater.plugins import hookimpl
from headwater.plugins.manager import make_plugin_manager, reset_plugin_manager
from headwater.plugins.types import ArtifactRepositoryProvider
from headwater.tracking import uri as uri_module
from headwater.tracking.client import Client

HEAVY = ("sqlalchemy", "alembic", "pandas", "rich", "fastapi", "uvicorn", "headwater_store_sql", "pydantic")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "HEADWATER_ARTIFACT_ROOT", "MLFLOW_ARTIFACT_ROOT", "MLFLOW_EXPERIMENT_ID",
                 "HEADWATER_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", uri)
    uri_module.set_tracking_uri(None)
    reset_plugin_manager()
    yield uri
    reset_plugin_manager()


def invoke(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


# -- start-up --------------------------------------------------------------------------------
def test_help_lists_the_commands_without_heavy_imports():
    code = (
        "import sys\n"
        "from headwater.cli import main\n"
        "try:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in ("db", "experiments", "plugins", "runs"):
        assert f"  {name} " in out
    assert "LOADED []" in out


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0 and "0.1.0" in result.output


def test_a_command_from_a_missing_distribution_explains_how_to_get_it(runner, monkeypatch):
    monkeypatch.setitem(COMMANDS, "fancy", ("headwater_fancy_missing.cli:fancy", "headwater-fancy"))
    result = runner.invoke(main, ["fancy", "--port", "1"])
    assert result.exit_code == 1
    assert "pip install headwater-fancy" in result.output
    assert "fancy" in invoke(runner, "--help").output


# -- plugins ------------------------------------------------------------------------------------
class _Builtin:
    __name__ = "core-thing"

    @hookimpl
    def headwater_artifact_repositories(self):
        yield ArtifactRepositoryProvider(name="mem", schemes=("memart",), factory=lambda uri: None)


class _Extra:
    __name__ = "extra"

    @hookimpl
    def headwater_artifact_repositories(self):
        yield ArtifactRepositoryProvider(name="extra", schemes=("extra",), factory=lambda uri: None)


def _broken_loader():
    raise ImportError("needs libfoo")


@pytest.fixture
def manager():
    manager = make_plugin_manager(
        load_entrypoints=False, environ={"HEADWATER_DISABLE_PLUGINS": "blocked_one"}, builtins=()
    )
    manager.register(_Builtin(), "core_thing", "headwater", "0.1.0", builtin=True)
    manager.register(_Extra(), "extra", "headwater-extra", "2.0")
    manager._load(_broken_loader, "broken", "headwater-broken", "0.3", False)
    manager._load(lambda: _Extra(), "blocked_one", "headwater-blocked", "1.0", False)
    reset_plugin_manager(manager)
    yield manager
    reset_plugin_manager()


def test_plugins_json_hides_builtins_unless_all(runner, manager):
    listed = json.loads(invoke(runner, "plugins", "--json").output)
    by_name = {p["name"]: p for p in listed}
    assert set(by_name) == {"extra", "broken", "blocked_one"}
    assert by_name["extra"] == {
        "name": "extra", "distribution": "headwater-extra", "version": "2.0", "builtin": False,
        "status": "active", "error": None, "hooks": ["headwater_artifact_repositories"],
        "provides": ["artifact repository extra ('extra')"],
    }
    assert by_name["broken"]["status"] == "failed" and "needs libfoo" in by_name["broken"]["error"]
    assert by_name["blocked_one"]["status"] == "blocked"
    everything = json.loads(invoke(runner, "plugins", "--all", "--json").output)
    assert {p["name"] for p in everything} == set(by_name) | {"core_thing"}
    assert [p for p in everything if p["name"] == "core_thing"][0]["builtin"] is True


def test_plugins_filter_by_hook(runner, manager):
    listed = json.loads(invoke(runner, "plugins", "--all", "--json", "--hook", "artifact_repositories").output)
    assert {p["name"] for p in listed} == {"core_thing", "extra"}
    assert json.loads(invoke(runner, "plugins", "--json", "--hook", "headwater_flavors").output) == []


def test_plugins_table_for_people(runner, manager):
    wide = {"COLUMNS": "200"}
    output = runner.invoke(main, ["plugins"], env=wide).output
    assert "headwater-extra" in output and "active" in output
    assert "failed: ImportError: needs libfoo" in output
    assert "core_thing" not in output
    assert "core_thing (builtin)" in runner.invoke(main, ["plugins", "--all"], env=wide).output


# -- db ---------------------------------------------------------------------------------------------
def _tables(path):
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_db_upgrade_creates_the_schema(runner, tmp_path):
    target = tmp_path / "fresh.db"
    result = invoke(runner, "db", "upgrade", f"sqlite:///{target}")
    assert result.exit_code == 0 and "up to date" in result.output
    assert {"experiments", "runs", "metrics", "params", "tags"} <= _tables(target)
    assert invoke(runner, "db", "upgrade", f"sqlite:///{target}").exit_code == 0  # idempotent


def test_db_upgrade_defaults_to_the_tracking_uri(runner, tracking_uri, tmp_path):
    assert invoke(runner, "db", "upgrade").exit_code == 0
    assert "runs" in _tables(tmp_path / "cli.db")


def test_db_upgrade_without_the_sql_store(runner, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "headwater_store_sql", None)
    result = runner.invoke(main, ["db", "upgrade", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    assert "pip install headwater-store-sql" in result.output
    assert not (tmp_path / "x.db").exists()


def test_passwords_are_not_printed():
    assert redact("postgresql://me:s3cret@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert redact("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


# -- experiments -----------------------------------------------------------------------------------
def test_experiment_commands(runner, tracking_uri, tmp_path):
    result = invoke(runner, "experiments", "create", "-n", "cli-exp", "-l", str(tmp_path / "loc"))
    assert result.exit_code == 0
    client = Client()
    experiment = client.get_experiment_by_name("cli-exp")
    assert result.output.strip() == f"Created experiment 'cli-exp' with id {experiment.experiment_id}"
    assert experiment.artifact_location.endswith("loc")

    listed = json.loads(invoke(runner, "experiments", "search", "--json").output)
    assert {e["name"] for e in listed} == {"Default", "cli-exp"}
    assert "cli-exp" in invoke(runner, "experiments", "search").output

    exp_id = experiment.experiment_id
    assert invoke(runner, "experiments", "rename", "-x", exp_id, "--new-name", "renamed").exit_code == 0
    assert client.get_experiment(exp_id).name == "renamed"
    assert invoke(runner, "experiments", "delete", "--experiment-id", exp_id).exit_code == 0
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    deleted = json.loads(invoke(runner, "experiments", "search", "--view", "deleted_only", "--json").output)
    assert [e["experiment_id"] for e in deleted] == [exp_id]
    assert invoke(runner, "experiments", "restore", "-x", exp_id).exit_code == 0
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def test_experiment_errors_are_one_line(runner, tracking_uri):
    invoke(runner, "experiments", "create", "-n", "dup")
    result = runner.invoke(main, ["experiments", "create", "-n", "dup"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "RESOURCE_ALREADY_EXISTS" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(main, ["experiments", "delete", "-x", "424242"])
    assert missing.exit_code == 1 and "RESOURCE_DOES_NOT_EXIST" in missing.output


# -- runs -----------------------------------------------------------------------------------------
def test_run_commands(runner, tracking_uri):
    client = Client()
    run = client.create_run("0", run_name="cli-run", tags={"team": "x"})
    run_id = run.info.run_id
    client.log_param(run_id, "lr", 0.1)
    client.log_metric(run_id, "loss", 0.25)

    described = json.loads(invoke(runner, "runs", "describe", "--run-id", run_id).output)
    assert described["info"]["run_id"] == described["info"]["run_uuid"] == run_id
    assert described["info"]["status"] == "RUNNING"
    assert described["data"]["params"] == {"lr": "0.1"}
    assert described["data"]["metrics"] == {"loss": 0.25}
    assert described["data"]["tags"]["team"] == "x"

    listed = json.loads(invoke(runner, "runs", "list", "--experiment-id", "0", "--json").output)
    assert [r["run_id"] for r in listed] == [run_id]
    assert "cli-run" in invoke(runner, "runs", "list", "-x", "0").output

    assert invoke(runner, "runs", "delete", "--run-id", run_id).output.strip() == f"Run with ID {run_id} has been deleted."
    assert json.loads(invoke(runner, "runs", "list", "-x", "0", "--json").output) == []
    deleted = json.loads(invoke(runner, "runs", "list", "-x", "0", "-v", "deleted_only", "--json").output)
    assert [r["run_id"] for r in deleted] == [run_id]
    assert invoke(runner, "runs", "restore", "--run-id", run_id).exit_code == 0
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_runs_list_reads_the_experiment_from_the_environment(runner, tracking_uri, monkeypatch):
    client = Client()
    experiment_id = client.create_experiment("env-exp")
    run_id = client.create_run(experiment_id).info.run_id
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    assert [r["run_id"] for r in json.loads(invoke(runner, "runs", "list", "--json").output)] == [run_id]


def test_describe_of_a_missing_run(runner, tracking_uri):
    result = runner.invoke(main, ["runs", "describe", "--run-id", "0123456789abcdef0123456789abcdef"])
    assert result.exit_code == 1 and "RESOURCE_DOES_NOT_EXIST" in result.output
