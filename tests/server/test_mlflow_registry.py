"""MLflow's own Python client (``mlflow==3.17.2``) and the model registry of a live ``headwater server``.

Every registry call of ``MlflowClient`` and the fluent API, as a user's
script makes it, with retries off so a wrongly retried status fails at once.
"""

from __future__ import annotations

import os
import uuid
import warnings

import pytest
import requests

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
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
        patch.delenv("MLFLOW_REGISTRY_URI", raising=False)
        mlflow.set_tracking_uri(tracking_server.url)
        mlflow.set_registry_uri(tracking_server.url)
        yield tracking_server.url
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)


@pytest.fixture(autouse=True)
def _quiet_stage_deprecation():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


@pytest.fixture
def client(server_url):
    return MlflowClient(tracking_uri=server_url, registry_uri=server_url)


@pytest.fixture
def name(client) -> str:
    return client.create_registered_model(unique("model")).name


@pytest.fixture
def run_with_model(client, tmp_path):
    """A run whose artifacts hold ``model/`` with an MLmodel file, uploaded through the proxy."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    (tmp_path / "model" / "weights.txt").write_text("0.5\n")
    run = client.create_run(client.create_experiment(unique("exp")))
    client.log_artifacts(run.info.run_id, str(tmp_path / "model"), "model")
    client.set_terminated(run.info.run_id)
    return run


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def code(info: pytest.ExceptionInfo) -> str:
    return info.value.error_code


# -- registered models ------------------------------------------------------------------------------
def test_create_get_update_rename_delete(client):
    original = unique("model")
    created = client.create_registered_model(original, tags={"team": "risk"}, description="first")
    assert (created.name, created.tags, created.description) == (original, {"team": "risk"}, "first")
    assert created.latest_versions == [] and created.aliases == {}
    updated = client.update_registered_model(original, description="second")
    assert updated.description == "second"
    renamed = unique("renamed")
    client.rename_registered_model(original, renamed)
    fetched = client.get_registered_model(renamed)
    assert (fetched.name, fetched.description, fetched.tags) == (renamed, "second", {"team": "risk"})
    assert fetched.last_updated_timestamp >= fetched.creation_timestamp > 0
    client.delete_registered_model(renamed)
    with pytest.raises(MlflowException) as info:
        client.get_registered_model(renamed)
    assert code(info) == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_and_invalid_names(client, name):
    with pytest.raises(MlflowException) as info:
        client.create_registered_model(name)
    assert code(info) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as info:
        client.create_registered_model("bad/name")
    assert code(info) == "INVALID_PARAMETER_VALUE"


def test_registered_model_tags(client, name):
    client.set_registered_model_tag(name, "k", "v1")
    client.set_registered_model_tag(name, "k", "v2")
    client.set_registered_model_tag(name, "other", "x")
    assert client.get_registered_model(name).tags == {"k": "v2", "other": "x"}
    client.delete_registered_model_tag(name, "other")
    client.delete_registered_model_tag(name, "never-set")
    assert client.get_registered_model(name).tags == {"k": "v2"}


def test_search_registered_models_filter_order_and_pages(client):
    prefix = unique("search")
    names = [client.create_registered_model(f"{prefix}-{i}", tags={"i": str(i)}).name for i in range(5)]
    found = client.search_registered_models(f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [m.name for m in found] == names[::-1]
    assert [m.name for m in client.search_registered_models(f"name LIKE '{prefix}-%' AND tags.i = '2'")] == [names[2]]
    seen, token = [], None
    while True:
        page = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=2, page_token=token)
        seen.extend(m.name for m in page)
        token = page.token
        if not token:
            break
    assert seen == names
    assert [m.name for m in mlflow.search_registered_models(filter_string=f"name LIKE '{prefix}-%'")] == names


# -- model versions ---------------------------------------------------------------------------------
def test_create_get_update_delete_versions(client, name, run_with_model):
    run_id = run_with_model.info.run_id
    source = f"{run_with_model.info.artifact_uri}/model"
    created = client.create_model_version(name, source, run_id=run_id, tags={"k": "v"},
                                          run_link="http://ui/runs/1", description="v one")
    assert (created.version, created.current_stage, created.status) == ("1", "None", "READY")
    assert (created.source, created.run_id, created.run_link, created.tags) == (source, run_id, "http://ui/runs/1",
                                                                                 {"k": "v"})
    second = client.create_model_version(name, "s3://bucket/second")
    assert second.version == "2"
    assert client.update_model_version(name, "1", description="described").description == "described"
    assert client.get_model_version(name, "1").description == "described"
    assert client.get_model_version_download_uri(name, "1") == source
    client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as info:
        client.get_model_version(name, "2")
    assert code(info) == "RESOURCE_DOES_NOT_EXIST"
    assert client.create_model_version(name, "s3://bucket/third").version == "3"


def test_model_version_tags(client, name):
    client.create_model_version(name, "s3://bucket/m")
    client.set_model_version_tag(name, "1", "k", "v")
    client.set_model_version_tag(name, "1", "gone", "x")
    client.delete_model_version_tag(name, "1", "gone")
    assert client.get_model_version(name, "1").tags == {"k": "v"}


def test_stages_and_latest_versions(client, name):
    for i in range(4):
        client.create_model_version(name, f"s3://bucket/{i}")
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Staging")
    moved = client.transition_model_version_stage(name, "3", "production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3", "None": "4"}
    assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["3"]
    with pytest.raises(MlflowException) as info:
        client.transition_model_version_stage(name, "4", "Shipped")
    assert code(info) == "INVALID_PARAMETER_VALUE"


def test_search_model_versions(client, name):
    for run_id in ("r1", "r2", "r2"):
        client.create_model_version(name, f"s3://bucket/{run_id}", run_id=run_id)
    found = client.search_model_versions(f"name = '{name}' AND run_id = 'r2'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["2", "3"]
    page = client.search_model_versions(f"name = '{name}'", max_results=2, order_by=["version_number DESC"])
    assert [v.version for v in page] == ["3", "2"] and page.token
    rest = client.search_model_versions(f"name = '{name}'", max_results=2, order_by=["version_number DESC"],
                                        page_token=page.token)
    assert [v.version for v in rest] == ["1"]
    assert len(mlflow.search_model_versions(filter_string=f"name = '{name}'")) == 3


# -- aliases ------------------------------------------------------------------------------------------
def test_aliases(client, name):
    client.create_model_version(name, "s3://bucket/1")
    client.create_model_version(name, "s3://bucket/2")
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    assert client.get_model_version(name, "2").aliases == ["champion"]
    client.delete_registered_model_alias(name, "champion")
    with pytest.raises(MlflowException) as info:
        client.get_model_version_by_alias(name, "champion")
    assert code(info) == "INVALID_PARAMETER_VALUE"
    for reserved in ("latest", "v1"):
        with pytest.raises(MlflowException) as info:
            client.set_registered_model_alias(name, reserved, "1")
        assert code(info) == "INVALID_PARAMETER_VALUE"


# -- registering and loading models --------------------------------------------------------------------
def test_register_model_and_download_by_every_uri_form(client, run_with_model, tmp_path):
    name = unique("registered")
    version = mlflow.register_model(f"runs:/{run_with_model.info.run_id}/model", name)
    assert (version.version, version.run_id) == ("1", run_with_model.info.run_id)
    client.transition_model_version_stage(name, "1", "Staging")
    client.set_registered_model_alias(name, "champion", "1")
    for i, uri in enumerate((f"models:/{name}/1", f"models:/{name}/Staging", f"models:/{name}/latest",
                             f"models:/{name}@champion")):
        local = mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / str(i)))
        assert "weights.txt" in os.listdir(local), uri
        assert open(os.path.join(local, "weights.txt")).read() == "0.5\n"


def test_log_model_with_a_registered_name_then_load_it(server_url):
    import mlflow.pyfunc

    class AddOne(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return [x + 1 for x in model_input]

    name = unique("pyfunc")
    mlflow.set_experiment(unique("exp"))
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=AddOne(), registered_model_name=name,
                                       pip_requirements=[])
    assert str(info.registered_model_version) == "1"
    assert MlflowClient().get_model_version(name, "1").source == f"models:/{info.model_id}"
    # MLflow's client does not read model_id back from the wire; the server does send it.
    wire = requests.get(f"{server_url}/api/2.0/mlflow/model-versions/get", params={"name": name, "version": 1},
                        timeout=30).json()["model_version"]
    assert wire["model_id"] == info.model_id
    MlflowClient().set_registered_model_alias(name, "prod", "1")
    for uri in (f"models:/{name}/1", f"models:/{name}@prod", f"models:/{name}/latest"):
        assert mlflow.pyfunc.load_model(uri).predict([1, 2]) == [2, 3]


def test_copy_model_version(client, name, run_with_model):
    client.create_model_version(name, f"{run_with_model.info.artifact_uri}/model", run_id=run_with_model.info.run_id)
    copy = unique("copy")
    copied = client.copy_model_version(f"models:/{name}/1", copy)
    assert (copied.name, copied.version, copied.source) == (copy, "1", f"models:/{name}/1")
    assert copied.run_id == run_with_model.info.run_id


def test_refused_source_keeps_the_mlflow_error_code(client, name):
    with pytest.raises(MlflowException) as info:
        client.create_model_version(name, "/etc/passwd")
    assert code(info) == "INVALID_PARAMETER_VALUE"
    assert client.search_model_versions(f"name = '{name}'") == []
