"""MLflow's own Python client (``mlflow==3.17.2``) against a live ``headwater server``.

Everything goes through the public ``mlflow``/``MlflowClient`` API with the
tracking URI pointing at the server, as a user's script would. Retries are
off, so an error the server wrongly answers with a retried status (5xx, 429)
fails at once instead of stalling the suite.
"""

from __future__ import annotations

import math
import os
import sys
import uuid

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

CLIENT_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


@pytest.fixture(scope="module")
def server_url(tracking_server):
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CLIENT_ENV.items():
            patch.setenv(key, value)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_server.url)
        mlflow.set_tracking_uri(tracking_server.url)
        yield tracking_server.url
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)


@pytest.fixture
def client(server_url):
    return MlflowClient(tracking_uri=server_url)


@pytest.fixture
def experiment_id(client):
    return client.create_experiment(unique("exp"))


@pytest.fixture(autouse=True)
def _no_active_run_left():
    yield
    while mlflow.active_run():
        mlflow.end_run()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_code(info: pytest.ExceptionInfo) -> str:
    return info.value.error_code


# -- experiments --------------------------------------------------------------------------
def test_experiment_create_get_and_get_by_name(client):
    name = unique("exp")
    experiment_id = client.create_experiment(name, tags={"team": "vision", "stage": "dev"})
    experiment = client.get_experiment(experiment_id)
    assert (experiment.experiment_id, experiment.name) == (experiment_id, name)
    assert experiment.lifecycle_stage == "active"
    assert experiment.tags == {"team": "vision", "stage": "dev"}
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert experiment.creation_time > 0 and experiment.last_update_time >= experiment.creation_time
    assert client.get_experiment_by_name(name).experiment_id == experiment_id
    assert client.get_experiment_by_name(unique("missing")) is None


def test_duplicate_and_unknown_experiments_raise_mlflow_errors(client, experiment_id):
    name = client.get_experiment(experiment_id).name
    with pytest.raises(MlflowException) as info:
        client.create_experiment(name)
    assert error_code(info) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as info:
        client.get_experiment("987654321")
    assert error_code(info) == "RESOURCE_DOES_NOT_EXIST"


def test_experiment_rename_delete_restore(client, experiment_id):
    new_name = unique("renamed")
    client.rename_experiment(experiment_id, new_name)
    assert client.get_experiment(experiment_id).name == new_name
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{new_name}'")
    assert [e.experiment_id for e in deleted] == [experiment_id]
    assert client.search_experiments(filter_string=f"name = '{new_name}'") == []
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_experiment_tags(client, experiment_id):
    client.set_experiment_tag(experiment_id, "owner", "ann")
    client.set_experiment_tag(experiment_id, "owner", "bob")
    client.set_experiment_tag(experiment_id, "note", "x")
    assert client.get_experiment(experiment_id).tags == {"owner": "bob", "note": "x"}
    client.delete_experiment_tag(experiment_id, "note")
    assert client.get_experiment(experiment_id).tags == {"owner": "bob"}


def test_search_experiments_filter_order_and_pages(client):
    prefix = unique("search")
    ids = [client.create_experiment(f"{prefix}-{i}", tags={"i": str(i)}) for i in range(5)]
    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [e.experiment_id for e in found] == ids[::-1]
    tagged = client.search_experiments(filter_string=f"name LIKE '{prefix}-%' AND tags.i = '3'")
    assert [e.experiment_id for e in tagged] == [ids[3]]
    seen, token = [], None
    while True:
        page = client.search_experiments(max_results=2, filter_string=f"name LIKE '{prefix}-%'",
                                         order_by=["name ASC"], page_token=token)
        seen.extend(e.experiment_id for e in page)
        token = page.token
        if not token:
            break
    assert seen == ids


def test_fluent_set_experiment_creates_then_reuses(server_url):
    name = unique("fluent")
    first = mlflow.set_experiment(name)
    again = mlflow.set_experiment(name)
    assert first.experiment_id == again.experiment_id and first.name == name


# -- runs ----------------------------------------------------------------------------------------
def test_create_get_update_and_terminate_a_run(client, experiment_id):
    run = client.create_run(experiment_id, tags={"purpose": "test"}, run_name="first-run")
    info = run.info
    assert (info.experiment_id, info.run_name, info.status) == (experiment_id, "first-run", "RUNNING")
    assert info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{info.run_id}/artifacts"
    assert info.end_time is None
    fetched = client.get_run(info.run_id)
    assert fetched.data.tags["purpose"] == "test"
    assert fetched.data.tags["mlflow.runName"] == "first-run"
    client.update_run(info.run_id, name="renamed-run")
    assert client.get_run(info.run_id).info.run_name == "renamed-run"
    client.set_terminated(info.run_id, status="FAILED", end_time=info.start_time + 5)
    ended = client.get_run(info.run_id).info
    assert (ended.status, ended.end_time) == ("FAILED", info.start_time + 5)
    assert RunStatus.from_string(ended.status) == RunStatus.FAILED


def test_delete_and_restore_a_run(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    assert [r.info.run_id for r in client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)] == [run_id]
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_unknown_run_is_resource_does_not_exist(client):
    with pytest.raises(MlflowException) as info:
        client.get_run(uuid.uuid4().hex)
    assert error_code(info) == "RESOURCE_DOES_NOT_EXIST"


def test_fluent_runs_with_nesting(server_url, client):
    experiment = mlflow.set_experiment(unique("nested"))
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_param("depth", 1)
        with mlflow.start_run(run_name="child-2", nested=True) as child_2:
            pass
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    children = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
                                  order_by=["attributes.run_name ASC"])
    assert [r.info.run_id for r in children] == [child.info.run_id, child_2.info.run_id]


def test_a_failing_block_marks_the_run_failed(server_url, client):
    mlflow.set_experiment(unique("failing"))
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0
    assert client.get_run(run.info.run_id).info.status == "FAILED"


# -- params, metrics, tags, batches -----------------------------------------------------------------
def test_params(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", 0.01)
    client.log_param(run_id, "lr", 0.01)  # the same value again is fine
    with pytest.raises(MlflowException) as info:
        client.log_param(run_id, "lr", 0.02)
    assert error_code(info) == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {"lr": "0.01"}


def test_metrics_and_history(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    for step, value in enumerate([0.1, 0.4, 0.35, 0.9]):
        client.log_metric(run_id, "acc", value, timestamp=1000 + step, step=step)
    client.log_metric(run_id, "odd", float("nan"), timestamp=5, step=0)
    client.log_metric(run_id, "odd", float("inf"), timestamp=6, step=1)
    client.log_metric(run_id, "odd", float("-inf"), timestamp=7, step=2)
    history = client.get_metric_history(run_id, "acc")
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (0, 0.1, 1000), (1, 0.4, 1001), (2, 0.35, 1002), (3, 0.9, 1003)
    ]
    odd = [m.value for m in client.get_metric_history(run_id, "odd")]
    # As MLflow's stores do, ±inf comes back as the largest finite doubles.
    assert math.isnan(odd[0]) and odd[1:] == [sys.float_info.max, -sys.float_info.max]
    data = client.get_run(run_id).data
    assert data.metrics["acc"] == 0.9
    assert data.metrics["odd"] == -sys.float_info.max


def test_tags(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.set_tag(run_id, "k", "v1")
    client.set_tag(run_id, "k", "v2")
    client.set_tag(run_id, "gone", "soon")
    client.delete_tag(run_id, "gone")
    tags = client.get_run(run_id).data.tags
    assert tags["k"] == "v2" and "gone" not in tags
    with pytest.raises(MlflowException) as info:
        client.delete_tag(run_id, "gone")
    assert error_code(info) == "RESOURCE_DOES_NOT_EXIST"
    client.set_tag(run_id, "mlflow.runName", "via-tag")
    assert client.get_run(run_id).info.run_name == "via-tag"


def test_log_batch(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (i + 1), 2000 + i, i) for i in range(50)],
        params=[Param(f"p{i}", str(i)) for i in range(10)],
        tags=[RunTag("batch", "yes")],
    )
    run = client.get_run(run_id)
    assert run.data.params == {f"p{i}": str(i) for i in range(10)}
    assert run.data.tags["batch"] == "yes"
    assert run.data.metrics["loss"] == 1.0 / 50
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(50))


def test_log_batch_is_all_or_nothing(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "fixed", "1")
    with pytest.raises(MlflowException) as info:
        client.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("fixed", "2")])
    assert error_code(info) == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.metrics == {}


def test_fluent_logging(server_url, client):
    mlflow.set_experiment(unique("fluent-log"))
    with mlflow.start_run() as run:
        mlflow.log_params({"a": 1, "b": "two"})
        mlflow.log_metrics({"x": 1.5, "y": -2.0}, step=3)
        mlflow.set_tags({"t1": "v1"})
        mlflow.log_metric("x", 2.5, step=4)
    data = client.get_run(run.info.run_id).data
    assert data.params == {"a": "1", "b": "two"}
    assert data.metrics == {"x": 2.5, "y": -2.0}
    assert data.tags["t1"] == "v1"


# -- search_runs ------------------------------------------------------------------------------
@pytest.fixture
def searchable(client, experiment_id):
    """Twelve finished runs with params opt/seed, metrics acc/loss and a tag."""
    run_ids = []
    for i in range(12):
        run_id = client.create_run(experiment_id, run_name=f"r{i:02d}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("acc", i / 12, 1000, 0), Metric("loss", 1 - i / 12, 1000, 0)],
            params=[Param("opt", "adam" if i % 2 else "sgd"), Param("seed", str(i))],
            tags=[RunTag("group", "a" if i < 6 else "b")],
        )
        client.set_terminated(run_id)
        run_ids.append(run_id)
    return experiment_id, run_ids


def test_search_runs_with_filters(client, searchable):
    experiment_id, run_ids = searchable
    found = client.search_runs([experiment_id], filter_string="metrics.acc > 0.5 and params.opt = 'adam'",
                               order_by=["metrics.acc DESC"])
    assert [r.info.run_id for r in found] == [run_ids[i] for i in (11, 9, 7)]
    by_tag = client.search_runs([experiment_id], filter_string="tags.group = 'a' and attributes.status = 'FINISHED'")
    assert {r.info.run_id for r in by_tag} == set(run_ids[:6])
    by_name = client.search_runs([experiment_id], filter_string="attributes.run_name LIKE 'r0%'")
    assert len(by_name) == 10
    by_id = client.search_runs([experiment_id], filter_string=f"attributes.run_id IN ('{run_ids[3]}', '{run_ids[4]}')",
                               order_by=["params.seed DESC"])
    assert [r.data.params["seed"] for r in by_id] == ["4", "3"]


def test_search_runs_order_by(client, searchable):
    experiment_id, run_ids = searchable
    ascending = client.search_runs([experiment_id], order_by=["metrics.loss ASC"])
    assert [r.info.run_id for r in ascending] == run_ids[::-1]
    by_name = client.search_runs([experiment_id], order_by=["attributes.run_name DESC"], max_results=3)
    assert [r.info.run_name for r in by_name] == ["r11", "r10", "r09"]


def test_search_runs_pages_with_page_token(client, searchable):
    experiment_id, run_ids = searchable
    seen, sizes, token = [], [], None
    while True:
        page = client.search_runs([experiment_id], max_results=5, order_by=["params.seed ASC"], page_token=token)
        sizes.append(len(page))
        seen.extend(r.info.run_id for r in page)
        token = page.token
        if not token:
            break
    assert sizes == [5, 5, 2]
    assert sorted(seen) == sorted(run_ids) and len(set(seen)) == 12


def test_fluent_search_runs_returns_a_frame(server_url, searchable):
    experiment_id, run_ids = searchable
    frame = mlflow.search_runs([experiment_id], filter_string="params.opt = 'sgd'", order_by=["metrics.acc ASC"])
    assert list(frame["run_id"]) == [run_ids[i] for i in (0, 2, 4, 6, 8, 10)]
    assert list(frame["params.opt"]) == ["sgd"] * 6
    assert "metrics.loss" in frame.columns and "tags.group" in frame.columns


# -- artifacts through the proxy ------------------------------------------------------------------
@pytest.fixture
def local_tree(tmp_path):
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "readme.md").write_text("# hello")
    (root / "sub" / "data.bin").write_bytes(os.urandom(256 * 1024))
    return root


def test_artifacts_file_directory_list_and_download(server_url, client, local_tree, tmp_path, tracking_server):
    mlflow.set_experiment(unique("artifacts"))
    single = tmp_path / "single.txt"
    single.write_text("one file")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="nested/dir")
        mlflow.log_artifacts(str(local_tree), artifact_path="tree")
        mlflow.log_text("text body", "notes/note.txt")
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

    root = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in root] == [("nested", True), ("notes", True), ("single.txt", False),
                                                   ("tree", True)]
    assert [f.file_size for f in root if not f.is_dir] == [len("one file")]

    tree = mlflow.artifacts.list_artifacts(artifact_uri=f"{run.info.artifact_uri}/tree")
    assert [(f.path, f.is_dir) for f in tree] == [("tree/readme.md", False), ("tree/sub", True)]

    downloaded = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="tree", dst_path=str(tmp_path / "d"))
    assert open(os.path.join(downloaded, "readme.md")).read() == "# hello"
    assert open(os.path.join(downloaded, "sub", "data.bin"), "rb").read() == (local_tree / "sub" / "data.bin").read_bytes()
    whole = client.download_artifacts(run_id, "", str(tmp_path / "all"))
    assert sorted(os.listdir(whole)) == ["nested", "notes", "single.txt", "tree"]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/note.txt") == "text body"

    # The bytes sit under the server's --artifacts-destination.
    destination = tracking_server.options["artifacts_destination"]
    relative = run.info.artifact_uri.split(":/", 1)[1]
    assert (destination / relative / "nested" / "dir" / "single.txt").read_text() == "one file"


def test_client_lists_a_sub_directory_of_a_run(server_url, client, local_tree):
    # MlflowClient also searches the run's logged models (logged-models/search) for this.
    mlflow.set_experiment(unique("artifacts-sub"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(local_tree), artifact_path="tree")
    listed = client.list_artifacts(run.info.run_id, "tree")
    assert [(f.path, f.is_dir) for f in listed] == [("tree/readme.md", False), ("tree/sub", True)]


def test_client_forced_to_multipart_falls_back_to_plain_transfers(server_url, client, tmp_path, monkeypatch):
    """Multipart is off (server-info says so); a client forced to try gets the answer it falls back on."""
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1")
    payload = os.urandom(64 * 1024)
    source = tmp_path / "forced.bin"
    source.write_bytes(payload)
    mlflow.set_experiment(unique("multipart"))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source))
    local = mlflow.artifacts.download_artifacts(artifact_uri=f"{run.info.artifact_uri}/forced.bin",
                                                dst_path=str(tmp_path / "out"))
    assert open(local, "rb").read() == payload
