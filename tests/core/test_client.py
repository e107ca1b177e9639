"""headwater.Client against the SQL store on a throw-away SQLite file, and tracking URI resolution."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from headwater.entities import Metric, Param, RunStatus, RunTag, ViewType
from headwater.events import get_event_bus, signal
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.plugins import hookimpl
from headwater.plugins.manager import get_plugin_manager, make_plugin_manager, reset_plugin_manager
from headwater.plugins.types import Observer
from headwater.tracking import uri as uri_module
from headwater.tracking.client import Client

ENV = (
    "HEADWATER_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "HEADWATER_ARTIFACT_ROOT",
    "MLFLOW_ARTIFACT_ROOT",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    uri_module.set_tracking_uri(None)
    yield tmp_path
    uri_module.set_tracking_uri(None)


@pytest.fixture
def tracking_uri(clean_env, monkeypatch):
    uri = f"sqlite:///{clean_env / 'tracking.db'}"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", uri)
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(clean_env / "artifacts"))
    reset_plugin_manager()
    yield uri
    reset_plugin_manager()


@pytest.fixture
def client(tracking_uri):
    return Client()


def code_of(excinfo):
    return excinfo.value.error_code


# -- tracking URI resolution -----------------------------------------------------------------
def test_uri_precedence(clean_env, monkeypatch):
    assert uri_module.resolve_tracking_uri() == f"sqlite:///{clean_env / 'headwater.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow-env.db")
    assert uri_module.resolve_tracking_uri() == "sqlite:///mlflow-env.db"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", "sqlite:///headwater-env.db")
    assert uri_module.resolve_tracking_uri() == "sqlite:///headwater-env.db"
    uri_module.set_tracking_uri("http://tracking.example:5000")
    assert uri_module.get_tracking_uri() == "http://tracking.example:5000"
    assert uri_module.resolve_tracking_uri("postgresql://db/x") == "postgresql://db/x"
    uri_module.set_tracking_uri(None)
    assert uri_module.get_tracking_uri() == "sqlite:///headwater-env.db"


def test_default_uri_is_absolute_and_stays_put_after_chdir(clean_env, monkeypatch):
    default = uri_module.default_tracking_uri()
    assert default == "sqlite:///" + os.path.join(str(clean_env), "headwater.db")
    assert os.path.isabs(default[len("sqlite:///"):])


def test_empty_env_values_are_ignored(clean_env, monkeypatch):
    monkeypatch.setenv("HEADWATER_TRACKING_URI", "")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///m.db")
    assert uri_module.get_tracking_uri() == "sqlite:///m.db"


def test_path_objects_become_file_uris(clean_env):
    uri_module.set_tracking_uri(Path("relative-dir"))
    assert uri_module.get_tracking_uri() == (clean_env / "relative-dir").as_uri()


def test_artifact_root_from_env(clean_env, monkeypatch):
    assert uri_module.artifact_root() is None
    monkeypatch.setenv("MLFLOW_ARTIFACT_ROOT", "/m")
    assert uri_module.artifact_root() == "/m"
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", "/h")
    assert uri_module.artifact_root() == "/h"


def test_client_uses_the_artifact_root_from_env(client, tracking_uri, clean_env):
    experiment = client.get_experiment(client.create_experiment("with-root"))
    assert experiment.artifact_location.startswith(str(clean_env / "artifacts"))


def test_unknown_scheme_names_the_installed_ones(tracking_uri):
    with pytest.raises(HeadwaterError) as err:
        Client("nosuchscheme://x")
    assert "sqlite" in str(err.value)


def test_clients_of_one_uri_share_the_store(client, tracking_uri):
    other = Client(tracking_uri)
    assert other.store is client.store
    assert client.tracking_uri == tracking_uri


# -- experiments ---------------------------------------------------------------------------------
def test_experiment_lifecycle(client):
    experiment_id = client.create_experiment("exp-a", tags={"team": "x", "n": 3})
    experiment = client.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == ("exp-a", {"team": "x", "n": "3"})
    assert client.get_experiment_by_name("exp-a").experiment_id == experiment_id
    assert client.get_experiment_by_name("nope") is None

    client.set_experiment_tag(experiment_id, "stage", "dev")
    client.rename_experiment(experiment_id, "exp-b")
    assert client.get_experiment(int(experiment_id)).name == "exp-b"
    assert client.get_experiment(experiment_id).tags["stage"] == "dev"

    client.delete_experiment(experiment_id)
    active = [e.experiment_id for e in client.search_experiments()]
    deleted = [e.experiment_id for e in client.search_experiments(view_type="DELETED_ONLY")]
    assert experiment_id not in active and experiment_id in deleted
    client.restore_experiment(experiment_id)
    assert experiment_id in [e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY)]


def test_duplicate_experiment_name_is_refused(client):
    client.create_experiment("twice")
    with pytest.raises(HeadwaterError) as err:
        client.create_experiment("twice")
    assert code_of(err) == ErrorCode.RESOURCE_ALREADY_EXISTS


def test_list_experiments_collects_every_page(client, monkeypatch):
    import headwater.tracking.client as client_module

    monkeypatch.setattr(client_module, "_PAGE", 2)
    names = {f"e{i}" for i in range(5)}
    for name in names:
        client.create_experiment(name)
    listed = client.list_experiments()
    assert {e.name for e in listed} == names | {"Default"}
    assert len(listed) == 6
    page = client.search_experiments(max_results=2, filter_string="name LIKE 'e%'")
    assert len(page) == 2 and page.token


# -- runs -----------------------------------------------------------------------------------------
def test_create_run_takes_the_user_from_the_tags(client):
    run = client.create_run("0", start_time=1234, tags={"mlflow.user": "ada", "k": 1}, run_name="first")
    assert run.info.user_id == "ada"
    assert run.info.start_time == 1234
    assert run.info.run_name == "first"
    assert run.info.status == RunStatus.RUNNING
    assert run.data.tags["k"] == "1"
    assert run.data.tags["mlflow.runName"] == "first"
    assert client.create_run("0").info.user_id == "unknown"


def test_logging_params_metrics_and_tags(client):
    run_id = client.create_run("0").info.run_id
    assert client.log_param(run_id, "lr", 0.1) == 0.1
    client.log_metric(run_id, "loss", 3, timestamp=100, step=1)
    client.log_metric(run_id, "loss", 2.5, timestamp=200, step=2)
    client.set_tag(run_id, "phase", "train")
    client.set_tag(run_id, "gone", "soon")
    client.delete_tag(run_id, "gone")
    run = client.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.metrics == {"loss": 2.5}
    assert run.data.tags["phase"] == "train" and "gone" not in run.data.tags
    history = client.get_metric_history(run_id, "loss")
    assert [(m.value, m.timestamp, m.step) for m in history] == [(3.0, 100, 1), (2.5, 200, 2)]


@pytest.mark.parametrize("bad", ["1.5", None, True, [1]])
def test_non_numeric_metric_values_are_refused(client, bad):
    run_id = client.create_run("0").info.run_id
    with pytest.raises(HeadwaterError) as err:
        client.log_metric(run_id, "m", bad)
    assert code_of(err) == ErrorCode.INVALID_PARAMETER_VALUE
    assert client.get_metric_history(run_id, "m") == []


def test_changing_a_param_is_refused(client):
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", "a")
    with pytest.raises(HeadwaterError) as err:
        client.log_param(run_id, "p", "b")
    assert code_of(err) == ErrorCode.INVALID_PARAMETER_VALUE


def test_log_batch_accepts_entities_dicts_tuples_and_frames(client):
    pd = pytest.importorskip("pandas")
    run_id = client.create_run("0").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric(key="a", value=1.0, timestamp=5, step=0), {"key": "b", "value": 2, "timestamp": 6, "step": 3}],
        params=[Param(key="p1", value="x"), {"key": "p2", "value": 2}, ("p3", 3.5)],
        tags={"t1": "y"},
    )
    client.log_batch(
        run_id,
        metrics=pd.DataFrame({"key": ["c"], "value": [4.0], "timestamp": [7], "step": [1]}),
        params=pd.DataFrame({"key": ["p4"], "value": ["z"]}),
        tags=[RunTag(key="t2", value="w")],
    )
    data = client.get_run(run_id).data
    assert data.metrics == {"a": 1.0, "b": 2.0, "c": 4.0}
    assert data.params == {"p1": "x", "p2": "2", "p3": "3.5", "p4": "z"}
    assert data.tags["t1"] == "y" and data.tags["t2"] == "w"
    assert [(m.step, m.timestamp) for m in client.get_metric_history(run_id, "b")] == [(3, 6)]


def test_log_batch_is_all_or_nothing(client):
    run_id = client.create_run("0").info.run_id
    with pytest.raises(HeadwaterError):
        client.log_batch(run_id, metrics=[{"key": "ok", "value": 1}], params=[("bad key!", "v")])
    assert client.get_run(run_id).data.metrics == {}


def test_update_run_and_set_terminated(client):
    run_id = client.create_run("0").info.run_id
    info = client.update_run(run_id, name="renamed")
    assert info.run_name == "renamed" and info.end_time is None
    assert client.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    info = client.update_run(run_id, status="KILLED")
    assert info.status == RunStatus.KILLED and info.end_time is not None
    info = client.set_terminated(run_id, end_time=4242)
    assert (info.status, info.end_time) == (RunStatus.FINISHED, 4242)
    info = client.set_terminated(run_id, "FAILED")
    assert info.status == RunStatus.FAILED and info.end_time >= 4242


def test_delete_restore_and_list_run_infos(client):
    experiment_id = client.create_experiment("runs")
    ids = [client.create_run(experiment_id, start_time=i).info.run_id for i in range(3)]
    client.delete_run(ids[0])
    assert {i.run_id for i in client.list_run_infos(experiment_id)} == set(ids[1:])
    assert [i.run_id for i in client.list_run_infos(experiment_id, "DELETED_ONLY")] == [ids[0]]
    assert len(client.list_run_infos(experiment_id, ViewType.ALL)) == 3
    client.restore_run(ids[0])
    assert len(client.list_run_infos(experiment_id)) == 3


def test_search_runs_filters_orders_and_pages(client):
    experiment_id = client.create_experiment("search")
    for i in range(5):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_metric(run_id, "acc", i / 10)
    found = client.search_runs(experiment_id, "metrics.acc >= 0.2", order_by=["metrics.acc DESC"])
    assert [r.data.metrics["acc"] for r in found] == [0.4, 0.3, 0.2]
    first = client.search_runs([experiment_id], max_results=2, order_by=["metrics.acc"])
    second = client.search_runs([experiment_id], max_results=2, order_by=["metrics.acc"], page_token=first.token)
    assert [r.data.metrics["acc"] for r in list(first) + list(second)] == [0.0, 0.1, 0.2, 0.3]


def test_missing_run_is_not_found(client):
    with pytest.raises(HeadwaterError) as err:
        client.get_run("0123456789abcdef0123456789abcdef")
    assert code_of(err) == ErrorCode.RESOURCE_DOES_NOT_EXIST


# -- artifacts ------------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path):
    src = tmp_path / "to-log"
    (src / "nested").mkdir(parents=True)
    (src / "model.txt").write_text("weights")
    (src / "nested" / "conf.yaml").write_text("a: 1")
    return src


def test_log_list_and_download_artifacts(client, files, tmp_path):
    run_id = client.create_run("0").info.run_id
    client.log_artifact(run_id, str(files / "model.txt"))
    client.log_artifact(run_id, str(files / "model.txt"), "copies")
    client.log_artifacts(run_id, str(files), "tree")
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [
        ("copies", True), ("model.txt", False), ("tree", True),
    ]
    assert [f.path for f in client.list_artifacts(run_id, "tree/nested")] == ["tree/nested/conf.yaml"]
    local = client.download_artifacts(run_id, "tree", str(tmp_path / "dl"))
    assert Path(local, "nested", "conf.yaml").read_text() == "a: 1"
    single = client.download_artifacts(run_id, "copies/model.txt", str(tmp_path / "dl2"))
    assert Path(single).read_text() == "weights"


def test_log_artifact_of_a_directory_logs_its_contents(client, files):
    run_id = client.create_run("0").info.run_id
    client.log_artifact(run_id, str(files), "d")
    assert [f.path for f in client.list_artifacts(run_id, "d")] == ["d/model.txt", "d/nested"]


def test_log_artifact_of_a_missing_path_is_refused(client, tmp_path):
    run_id = client.create_run("0").info.run_id
    with pytest.raises(HeadwaterError) as err:
        client.log_artifact(run_id, str(tmp_path / "missing.txt"))
    assert code_of(err) == ErrorCode.INVALID_PARAMETER_VALUE


def test_artifact_paths_cannot_escape_the_run(client, files, tmp_path):
    run_id = client.create_run("0").info.run_id
    for bad in ("../../escape", "/tmp/escape", "%2e%2e/%2e%2e/escape"):
        with pytest.raises(HeadwaterError) as err:
            client.log_artifact(run_id, str(files / "model.txt"), bad)
        assert code_of(err) == ErrorCode.INVALID_PARAMETER_VALUE
    with pytest.raises(HeadwaterError):
        client.download_artifacts(run_id, "../../../tracking.db", str(tmp_path / "dl"))
    assert not (tmp_path / "dl").exists() or not any((tmp_path / "dl").rglob("tracking.db"))


def test_logging_artifacts_announces_the_files(client, files):
    run_id = client.create_run("0").info.run_id
    received, done = [], threading.Event()

    def receiver(sender, event, **extra):
        if event.payload.run_id == run_id:
            received.append(event.payload)
            if len(received) == 2:
                done.set()

    signal("log_artifact").connect(receiver)
    try:
        client.log_artifact(run_id, str(files / "model.txt"), "one")
        client.log_artifacts(run_id, str(files), "many")
        assert done.wait(5)
    finally:
        signal("log_artifact").disconnect(receiver)
    assert received[0].files == ["one/model.txt"] and received[0].artifact_path == "one"
    assert received[1].files == ["many/model.txt", "many/nested/conf.yaml"]


# -- observer plugins -------------------------------------------------------------------------
def test_client_connects_observer_plugins(tracking_uri):
    seen, done = [], threading.Event()

    def on_param(sender, event, **extra):
        seen.append((event.name, event.payload.key, event.payload.value))
        done.set()

    class ObserverPlugin:
        __name__ = "test-observer"

        @hookimpl
        def headwater_observers(self):
            yield Observer(name="recorder", receivers={"log_param": on_param})

    manager = make_plugin_manager()
    manager.register(ObserverPlugin(), "test-observer", "test-dist", "0")
    reset_plugin_manager(manager)
    bus = get_event_bus()
    try:
        client = Client()
        Client()  # a second client does not connect the observer twice
        client.log_param(client.create_run("0").info.run_id, "alpha", "1")
        assert done.wait(5)
        time.sleep(0.2)  # room for a duplicate delivery to show up
        assert seen == [("log_param", "alpha", "1")]
        assert get_plugin_manager() is manager
    finally:
        bus.close(1)


def test_experiment_events_carry_the_name(client):
    received, done = [], threading.Event()

    def receiver(sender, event, **extra):
        received.append(event.payload)
        done.set()

    signal("create_experiment").connect(receiver)
    try:
        experiment_id = client.create_experiment("announced", tags={"k": "v"})
        assert done.wait(5)
    finally:
        signal("create_experiment").disconnect(receiver)
    assert (received[0].experiment_id, received[0].name, received[0].tags) == (experiment_id, "announced", {"k": "v"})
