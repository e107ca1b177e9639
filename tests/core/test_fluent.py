"""The fluent API (headwater.start_run, headwater.log_metric, ...) against the SQL store on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import headwater
from headwater.entities import RunStatus
from headwater.events import get_event_bus
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.plugins.manager import reset_plugin_manager
from headwater.tracking import context, fluent
from headwater.tracking import uri as uri_module

ENV = (
    "HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI", "HEADWATER_ARTIFACT_ROOT", "MLFLOW_ARTIFACT_ROOT",
    "HEADWATER_RUN_ID", "MLFLOW_RUN_ID", "HEADWATER_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID",
    "HEADWATER_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME", "HEADWATER_TRACKING_USERNAME",
    "MLFLOW_TRACKING_USERNAME",
)


def _end_all_runs():
    while headwater.active_run() is not None:
        headwater.end_run()


@pytest.fixture(autouse=True)
def tracking(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", uri)
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    uri_module.set_tracking_uri(None)
    reset_plugin_manager()
    yield uri
    _end_all_runs()
    fluent._state.last_run_id = fluent._state.last_client = None
    fluent._clients.clear()
    reset_plugin_manager()


def code_of(excinfo):
    return excinfo.value.error_code


def test_public_names_resolve_lazily_from_the_package():
    for name in fluent.__all__:
        assert getattr(headwater, name) is getattr(fluent, name)
    assert headwater.Client.__name__ == "Client"
    assert set(fluent.__all__) <= set(dir(headwater))
    with pytest.raises(AttributeError):
        headwater.no_such_function  # noqa: B018


# -- experiments --------------------------------------------------------------------------------
def test_set_experiment_creates_and_activates():
    experiment = headwater.set_experiment("fluent-exp")
    assert headwater.get_experiment_by_name("fluent-exp").experiment_id == experiment.experiment_id
    assert headwater.get_experiment().name == "fluent-exp"  # the active one
    with headwater.start_run() as run:
        assert run.info.experiment_id == experiment.experiment_id
    # by id, and setting an existing name again does not create another
    again = headwater.set_experiment(experiment_id=experiment.experiment_id)
    assert again.experiment_id == headwater.set_experiment("fluent-exp").experiment_id
    assert [e.name for e in headwater.search_experiments()].count("fluent-exp") == 1


def test_set_experiment_refuses_deleted_and_ambiguous_requests():
    experiment_id = headwater.create_experiment("to-delete")
    headwater.delete_experiment(experiment_id)
    with pytest.raises(HeadwaterError) as err:
        headwater.set_experiment("to-delete")
    assert code_of(err) == ErrorCode.INVALID_PARAMETER_VALUE
    with pytest.raises(HeadwaterError):
        headwater.set_experiment(experiment_id=experiment_id)
    with pytest.raises(HeadwaterError):
        headwater.set_experiment()
    with pytest.raises(HeadwaterError):
        headwater.set_experiment("a", experiment_id="1")
    headwater.restore_experiment(experiment_id)
    assert headwater.set_experiment(experiment_id=experiment_id).name == "to-delete"


def test_experiment_helpers():
    experiment_id = headwater.create_experiment("helpers", tags={"a": "1"})
    headwater.rename_experiment(experiment_id, "helpers-2")
    headwater.set_experiment_tag("b", 2, experiment_id=experiment_id)
    headwater.set_experiment(experiment_id=experiment_id)
    headwater.set_experiment_tag("c", "active")
    experiment = headwater.get_experiment(name="helpers-2")
    assert experiment.tags == {"a": "1", "b": "2", "c": "active"}
    assert headwater.get_experiment(experiment_id).name == "helpers-2"
    with pytest.raises(HeadwaterError) as err:
        headwater.get_experiment(name="absent")
    assert code_of(err) == ErrorCode.RESOURCE_DOES_NOT_EXIST
    assert len(headwater.search_experiments(max_results=1)) == 1


def test_experiment_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    with headwater.start_run() as run:
        pass
    assert headwater.get_experiment(run.info.experiment_id).name == "from-env"
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")
    other = headwater.create_experiment("by-id")
    monkeypatch.setenv("HEADWATER_EXPERIMENT_ID", other)
    with headwater.start_run() as run:
        assert run.info.experiment_id == other
    monkeypatch.setenv("HEADWATER_EXPERIMENT_ID", "98765")
    with pytest.raises(HeadwaterError):
        headwater.start_run()


def test_runs_default_to_experiment_zero():
    with headwater.start_run() as run:
        assert run.info.experiment_id == "0"


# -- runs ------------------------------------------------------------------------------------------
def test_context_manager_ends_finished():
    with headwater.start_run(run_name="ok") as run:
        assert headwater.active_run() is run
        assert headwater.get_run().info.status == RunStatus.RUNNING
    assert headwater.active_run() is None
    info = headwater.get_run(run.info.run_id).info
    assert info.status == RunStatus.FINISHED and info.end_time is not None
    assert info.run_name == "ok"
    assert headwater.last_active_run().info.run_id == run.info.run_id


def test_context_manager_ends_failed_on_exception():
    with pytest.raises(ZeroDivisionError):
        with headwater.start_run() as run:
            1 / 0
    assert headwater.get_run(run.info.run_id).info.status == RunStatus.FAILED
    assert headwater.active_run() is None


def test_second_run_needs_nested():
    with headwater.start_run() as parent:
        with pytest.raises(HeadwaterError) as err:
            headwater.start_run()
        assert "nested=True" in str(err.value)
        with headwater.start_run(nested=True) as child:
            assert headwater.active_run() is child
            with headwater.start_run(nested=True) as grandchild:
                pass
        assert headwater.active_run() is parent
    tags = headwater.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id
    assert headwater.get_run(grandchild.info.run_id).data.tags["mlflow.parentRunId"] == child.info.run_id
    assert "mlflow.parentRunId" not in headwater.get_run(parent.info.run_id).data.tags


def test_end_run_with_status_and_without_a_run():
    headwater.end_run()  # nothing active: no error
    run = headwater.start_run()
    headwater.end_run("KILLED")
    assert headwater.get_run(run.info.run_id).info.status == RunStatus.KILLED
    assert headwater.last_active_run().info.status == RunStatus.KILLED


def test_system_tags_on_new_runs(monkeypatch):
    monkeypatch.setenv("HEADWATER_TRACKING_USERNAME", "grace")
    monkeypatch.setattr(sys, "argv", ["train.py", "--lr", "0.1"])
    with headwater.start_run(run_name="tagged", tags={"mlflow.source.type": "PROJECT", "own": 1}) as run:
        pass
    stored = headwater.get_run(run.info.run_id)
    tags = stored.data.tags
    assert tags["mlflow.user"] == "grace" and stored.info.user_id == "grace"
    assert tags["mlflow.source.name"] == "train.py"
    assert tags["mlflow.source.type"] == "PROJECT"  # the caller's tag wins
    assert tags["mlflow.runName"] == "tagged"
    assert tags["own"] == "1"


def test_source_type_is_local_by_default():
    with headwater.start_run() as run:
        pass
    assert headwater.get_run(run.info.run_id).data.tags["mlflow.source.type"] == "LOCAL"


def test_resume_by_run_id():
    with headwater.start_run(run_name="first") as run:
        headwater.log_param("kept", "yes")
    with headwater.start_run(run_id=run.info.run_id, tags={"resumed": "1"}) as resumed:
        assert resumed.info.status == RunStatus.RUNNING
        assert resumed.data.params == {"kept": "yes"}
        assert resumed.data.tags["resumed"] == "1"
        headwater.log_metric("after", 1)
    stored = headwater.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FINISHED and stored.data.metrics == {"after": 1.0}


def test_resume_clears_the_end_time():
    with headwater.start_run() as run:
        pass
    with headwater.start_run(run_id=run.info.run_id) as resumed:
        assert resumed.info.end_time is None


@pytest.mark.parametrize("variable", ["HEADWATER_RUN_ID", "MLFLOW_RUN_ID"])
def test_resume_from_the_environment(monkeypatch, variable):
    with headwater.start_run() as run:
        pass
    monkeypatch.setenv(variable, run.info.run_id)
    with headwater.start_run() as resumed:
        assert resumed.info.run_id == run.info.run_id
    assert variable not in os.environ  # used once: the next run is new
    with headwater.start_run() as fresh:
        assert fresh.info.run_id != run.info.run_id


def test_resuming_a_deleted_run_is_refused():
    with headwater.start_run() as run:
        pass
    headwater.delete_run(run.info.run_id)
    with pytest.raises(HeadwaterError) as err:
        headwater.start_run(run_id=run.info.run_id)
    assert "deleted" in str(err.value)
    headwater.restore_run(run.info.run_id)
    assert headwater.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_active_runs_are_per_thread():
    seen = {}

    def worker():
        seen["active_at_start"] = headwater.active_run()
        with headwater.start_run() as run:
            seen["worker_run"] = run.info.run_id
            headwater.log_metric("from_thread", 1)

    with headwater.start_run() as main_run:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(30)
        assert headwater.active_run() is main_run
    assert seen["active_at_start"] is None
    assert seen["worker_run"] != main_run.info.run_id
    assert headwater.get_run(seen["worker_run"]).data.metrics == {"from_thread": 1.0}
    assert headwater.get_run(main_run.info.run_id).data.metrics == {}


# -- logging ---------------------------------------------------------------------------------------
def test_logging_starts_a_run_on_demand():
    assert headwater.active_run() is None
    headwater.log_metric("auto", 1.0)
    run = headwater.active_run()
    assert run is not None
    headwater.end_run()
    assert headwater.get_run(run.info.run_id).data.metrics == {"auto": 1.0}


def test_log_everything():
    with headwater.start_run() as run:
        assert headwater.log_param("p", 5) == 5
        headwater.log_params({"a": 1, "b": "two"})
        headwater.log_metric("loss", 0.5, step=1, timestamp=1000)
        headwater.log_metric("loss", 0.25, step=2)
        headwater.log_metrics({"acc": 0.9, "f1": 0.8}, step=3)
        headwater.set_tag("t", "v")
        headwater.set_tags({"u": 1, "w": "x"})
        headwater.delete_tag("w")
        headwater.log_batch(metrics=[{"key": "b", "value": 1, "step": 0}], params={"q": "r"}, tags=[("z", "9")])
        history = headwater.get_metric_history("loss")
    data = headwater.get_run(run.info.run_id).data
    assert data.params == {"p": "5", "a": "1", "b": "two", "q": "r"}
    assert data.metrics == {"loss": 0.25, "acc": 0.9, "f1": 0.8, "b": 1.0}
    assert {k: data.tags[k] for k in ("t", "u", "z")} == {"t": "v", "u": "1", "z": "9"}
    assert "w" not in data.tags
    assert [(m.value, m.step) for m in history] == [(0.5, 1), (0.25, 2)]
    assert history[0].timestamp == 1000
    assert [m.step for m in headwater.get_metric_history("acc", run_id=run.info.run_id)] == [3]


def test_logging_to_an_explicit_run_id():
    with headwater.start_run() as first:
        pass
    with headwater.start_run():
        headwater.log_metric("elsewhere", 2, run_id=first.info.run_id)
        headwater.set_tag("elsewhere", "yes", run_id=first.info.run_id)
    # logging needs an active run: the first one is FINISHED, which the store still accepts
    data = headwater.get_run(first.info.run_id).data
    assert data.metrics == {"elsewhere": 2.0} and data.tags["elsewhere"] == "yes"


def test_reading_without_an_active_run_needs_a_run_id():
    with pytest.raises(HeadwaterError):
        headwater.get_metric_history("loss")
    with pytest.raises(HeadwaterError):
        headwater.list_artifacts()
    assert headwater.active_run() is None  # reading never starts a run


def test_fluent_and_client_log_metric_land_in_the_same_run(tracking):
    """Both doors write the same store; the speed of each is measured in bench/, not here."""
    client = headwater.Client()
    with headwater.start_run() as run:
        run_id = run.info.run_id
        for i in range(50):
            client.log_metric(run_id, "direct", i, step=i)
            headwater.log_metric("fluent", i, step=i)
    for key in ("direct", "fluent"):
        assert [m.step for m in headwater.get_metric_history(key, run_id=run_id)] == list(range(50))


# -- search -----------------------------------------------------------------------------------------
def _three_runs():
    headwater.set_experiment("searchable")
    ids = []
    for i in range(3):
        with headwater.start_run(run_name=f"r{i}") as run:
            headwater.log_metric("acc", i / 10)
            if i:
                headwater.log_param("only_some", i)
        ids.append(run.info.run_id)
    return ids


def test_search_runs_as_a_dataframe():
    pd = pytest.importorskip("pandas")
    ids = _three_runs()
    frame = headwater.search_runs(order_by=["metrics.acc DESC"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["run_id"]) == ids[::-1]
    assert list(frame.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    assert list(frame["metrics.acc"]) == [0.2, 0.1, 0.0]
    assert list(frame["params.only_some"][:2]) == ["2", "1"] and pd.isna(frame["params.only_some"][2])
    assert list(frame["tags.mlflow.runName"]) == ["r2", "r1", "r0"]
    assert set(frame["status"]) == {"FINISHED"}
    assert str(frame["start_time"].dt.tz) == "UTC"


def test_search_runs_as_a_list_with_filter_and_limit():
    ids = _three_runs()
    found = headwater.search_runs(filter_string="metrics.acc > 0.05", output_format="list")
    assert {r.info.run_id for r in found} == set(ids[1:])
    assert len(headwater.search_runs(max_results=2, output_format="list")) == 2
    assert headwater.search_runs(experiment_ids=["0"], output_format="list") == []
    by_name = headwater.search_runs(experiment_names=["searchable"], output_format="list")
    assert len(by_name) == 3
    everywhere = headwater.search_runs(search_all_experiments=True, output_format="list")
    assert len(everywhere) == 3
    with pytest.raises(HeadwaterError):
        headwater.search_runs(experiment_ids=["0"], experiment_names=["searchable"])
    with pytest.raises(ValueError):
        headwater.search_runs(output_format="xml")


def test_search_runs_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError) as err:
        headwater.search_runs()
    assert "headwater[pandas]" in str(err.value)
    assert headwater.search_runs(output_format="list") == []


# -- artifacts ---------------------------------------------------------------------------------------
def test_artifacts_through_the_fluent_api(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("A")
    (tmp_path / "out" / "sub").mkdir()
    (tmp_path / "out" / "sub" / "b.txt").write_text("B")
    with headwater.start_run() as run:
        headwater.log_artifact(str(tmp_path / "out" / "a.txt"))
        headwater.log_artifacts(str(tmp_path / "out"), "all")
        top = [f.path for f in headwater.list_artifacts()]
        nested = [f.path for f in headwater.list_artifacts("all/sub")]
    assert top == ["a.txt", "all"] and nested == ["all/sub/b.txt"]
    local = headwater.download_artifacts("all", run_id=run.info.run_id, dst_path=str(tmp_path / "dl"))
    assert Path(local, "sub", "b.txt").read_text() == "B"
    one = headwater.download_artifacts(artifact_path="a.txt", run_id=run.info.run_id, dst_path=str(tmp_path / "d2"))
    assert Path(one).read_text() == "A"
    assert run.info.artifact_uri.startswith(str(tmp_path / "artifacts"))


# -- project parameters ------------------------------------------------------------------------------
def test_param_from_the_command_line(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "--lr", "0.05", "--epochs=7", "--name", "x", "--flag", "no"])
    assert headwater.param("lr", 0.1) == 0.05
    assert headwater.param("epochs", type="integer") == 7
    assert headwater.param("name", type="string") == "x"
    assert headwater.param("flag", True) is False
    assert headwater.param("missing", 3) == 3
    assert headwater.param("missing", "4", type="int") == 4


def test_param_from_the_environment(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py"])
    monkeypatch.setenv("MLFLOW_PARAM_ALPHA", "0.5")
    monkeypatch.setenv("HEADWATER_PARAM_beta", "2")
    assert headwater.param("alpha", type="numeric") == 0.5
    assert headwater.param("beta", type="float") == 2.0
    monkeypatch.setattr(sys, "argv", ["train.py", "--alpha", "0.7"])
    assert headwater.param("alpha", type="numeric") == 0.7  # the command line wins


def test_param_errors(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "--n", "2.5", "--b", "maybe"])
    for call in (
        lambda: headwater.param("n", type="integer"),
        lambda: headwater.param("b", type="boolean"),
        lambda: headwater.param("nothing"),
        lambda: headwater.param("n", type="complex"),
    ):
        with pytest.raises(HeadwaterError) as err:
            call()
        assert code_of(err) == ErrorCode.INVALID_PARAMETER_VALUE


# -- git context -----------------------------------------------------------------------------------
def _git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_SYSTEM=os.devnull)
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", "https://example.com/team/project.git")
    (repo / "src" / "train.py").write_text("print('hi')\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    context.git_tags.cache_clear()
    yield repo
    context.git_tags.cache_clear()


def test_git_tags_of_a_checkout(repo):
    tags = context.git_tags(str(repo / "src"))
    assert tags == {
        context.GIT_COMMIT: _git(repo, "rev-parse", "HEAD"),
        context.GIT_BRANCH: "main",
        context.GIT_REPO_URL: "https://example.com/team/project.git",
    }


def test_git_tags_with_packed_refs_and_detached_head(repo):
    _git(repo, "pack-refs", "--all")
    assert context.git_tags(str(repo))[context.GIT_COMMIT] == _git(repo, "rev-parse", "HEAD")
    context.git_tags.cache_clear()
    _git(repo, "checkout", "-q", "--detach")
    tags = context.git_tags(str(repo))
    assert tags[context.GIT_COMMIT] == _git(repo, "rev-parse", "HEAD")
    assert context.GIT_BRANCH not in tags


def test_git_tags_in_a_worktree(repo, tmp_path):
    (repo / "src" / "train.py").write_text("print('two')\n")
    _git(repo, "commit", "-q", "-am", "two")
    _git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"), "HEAD~1")
    tags = context.git_tags(str(tmp_path / "wt" / "src"))
    assert tags[context.GIT_COMMIT] == _git(tmp_path / "wt", "rev-parse", "HEAD")
    assert tags[context.GIT_COMMIT] != _git(repo, "rev-parse", "HEAD")
    assert tags[context.GIT_BRANCH] == "feature"


def test_no_git_tags_outside_a_checkout(tmp_path):
    outside = tmp_path / "plain"
    outside.mkdir()
    if context._git_dirs(str(outside)) is not None:
        pytest.skip("the temporary directory lies inside a git checkout")
    assert context.git_tags(str(outside)) == {}


def test_runs_from_a_script_in_a_checkout_carry_its_commit(repo, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(repo / "src" / "train.py")])
    with headwater.start_run() as run:
        pass
    tags = headwater.get_run(run.info.run_id).data.tags
    assert tags["mlflow.source.git.commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["mlflow.source.name"] == str(repo / "src" / "train.py")


# -- events --------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def register_tracking_event(self, event_name, data):
        with self.lock:
            self.events.append((event_name, data))


class Raiser:
    def register_tracking_event(self, event_name, data):
        raise RuntimeError("observer bug")


class Sleeper:
    """Blocks 3 s per event, until the test is over (so its backlog drains at teardown)."""

    released = threading.Event()

    def register_tracking_event(self, event_name, data):
        self.released.wait(3)


@pytest.fixture
def event_bus():
    Sleeper.released.clear()
    bus = get_event_bus()
    yield bus
    Sleeper.released.set()
    bus.close(2)  # deliver the backlog, then disconnect this test's observers


def test_external_observer_receives_events(event_bus):
    recorder = Recorder()
    headwater.register_external_observer(recorder)
    with headwater.start_run(run_name="observed") as run:
        headwater.log_metric("loss", 0.5, step=3)
    assert event_bus.flush(10)
    names = [name for name, _ in recorder.events]
    assert names[:2] == ["create_run", "log_metric"] and "update_run" in names
    created = recorder.events[0][1]
    assert created["run_id"] == run.info.run_id and created["run_name"] == "observed"
    assert created["tags"]["mlflow.runName"] == "observed" and created["event_id"]
    metric = recorder.events[1][1]
    assert (metric["run_id"], metric["key"], metric["value"], metric["step"]) == (run.info.run_id, "loss", 0.5, 3)


def test_failing_or_slow_observers_do_not_slow_or_break_logging(event_bus):
    recorder = Recorder()
    for observer in (Raiser(), Sleeper(), recorder):
        headwater.register_external_observer(observer)
    with headwater.start_run() as run:
        t0 = time.perf_counter()
        for i in range(10):
            headwater.log_metric("m", i, step=i)
        elapsed = time.perf_counter() - t0
    assert elapsed < 1.0  # ten calls, while one observer sleeps 3 s per event
    assert len(headwater.get_metric_history("m", run_id=run.info.run_id)) == 10
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(n == "log_metric" for n, _ in recorder.events) < 10:
        time.sleep(0.05)
    assert sum(n == "log_metric" for n, _ in recorder.events) == 10  # the others still got everything
