"""The registry through headwater.Client and the module-level API, on throw-away SQLite files."""

from __future__ import annotations

import os

import pytest

import headwater
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.plugins.manager import reset_plugin_manager
from headwater.registry import uri as registry_uri_module
from headwater.tracking import fluent
from headwater.tracking import uri as uri_module
from headwater.tracking.client import Client

ENV = ("HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI", "HEADWATER_REGISTRY_URI", "MLFLOW_REGISTRY_URI",
       "HEADWATER_ARTIFACT_ROOT", "MLFLOW_ARTIFACT_ROOT")


@pytest.fixture
def workdir(monkeypatch, tmp_path):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEADWATER_TRACKING_URI", f"sqlite:///{tmp_path / 'tracking.db'}")
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri_module.set_tracking_uri(None)
    registry_uri_module.set_registry_uri(None)
    reset_plugin_manager()
    yield tmp_path
    while fluent.active_run():
        fluent.end_run()
    registry_uri_module.set_registry_uri(None)
    reset_plugin_manager()


@pytest.fixture
def client(workdir):
    return Client()


@pytest.fixture
def run_with_model(client, workdir):
    """A run whose artifacts hold a model directory ``model`` (an MLmodel file and one more)."""
    model_dir = workdir / "local-model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors: {}\n")
    (model_dir / "weights.bin").write_bytes(b"\x00\x01")
    run = client.create_run("0")
    client.log_artifacts(run.info.run_id, str(model_dir), "model")
    return run


def test_register_model_from_a_run(client, run_with_model):
    run_id = run_with_model.info.run_id
    first = client.register_model(f"runs:/{run_id}/model", "churn")
    second = client.register_model(f"runs:/{run_id}/model", "churn", tags={"k": "v"})
    assert (first.version, second.version, second.tags) == ("1", "2", {"k": "v"})
    assert first.run_id == run_id and first.status == "READY"
    assert first.source == f"{run_with_model.info.artifact_uri}/model"
    assert client.get_registered_model("churn").name == "churn"


def test_register_model_without_a_model_there(client, run_with_model):
    with pytest.raises(HeadwaterError) as info:
        client.register_model(f"runs:/{run_with_model.info.run_id}/nothing-here", "churn")
    assert info.value.error_code == ErrorCode.NOT_FOUND


def test_register_a_logged_model(client):
    run = client.create_run("0")
    logged = client.create_logged_model("0", name="model", source_run_id=run.info.run_id)
    version = client.register_model(f"models:/{logged.model_id}", "from-logged")
    assert (version.source, version.model_id, version.run_id) == (
        f"models:/{logged.model_id}", logged.model_id, run.info.run_id,
    )
    assert client.get_model_version_download_uri("from-logged", "1") == logged.artifact_uri
    by_run = client.register_model(f"runs:/{run.info.run_id}/model", "from-logged")
    assert by_run.model_id == logged.model_id


@pytest.mark.parametrize(
    "uri", ["models:/churn/1", "models:/churn/production", "models:/churn/latest", "models:/churn@champion"],
)
def test_download_artifacts_of_model_uris(client, run_with_model, workdir, uri):
    client.register_model(f"runs:/{run_with_model.info.run_id}/model", "churn")
    client.transition_model_version_stage("churn", "1", "Production")
    client.set_registered_model_alias("churn", "champion", "1")
    local = headwater.download_artifacts(artifact_uri=uri, dst_path=str(workdir / "out"))
    assert sorted(os.listdir(local)) == ["MLmodel", "weights.bin"]
    assert open(os.path.join(local, "weights.bin"), "rb").read() == b"\x00\x01"
    # The URI may also be given in place of the run artifact path.
    again = headwater.download_artifacts(uri, dst_path=str(workdir / "again"))
    assert sorted(os.listdir(again)) == ["MLmodel", "weights.bin"]


def test_download_of_unknown_models(client):
    client.create_registered_model("empty")
    with pytest.raises(HeadwaterError) as info:
        headwater.download_artifacts(artifact_uri="models:/empty/Production")
    assert info.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST
    with pytest.raises(HeadwaterError) as info:
        headwater.download_artifacts(artifact_uri="models:/empty@nobody")
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE


def test_module_level_functions(workdir):
    headwater.create_registered_model("m", tags={"team": "a"}, description="d")
    headwater.create_model_version("m", "s3://bucket/1", run_id="r1")
    headwater.create_model_version("m", "s3://bucket/2")
    headwater.transition_model_version_stage("m", 2, "Staging")
    headwater.set_registered_model_alias("m", "champion", 1)
    headwater.set_model_version_tag("m", 1, "k", "v")
    headwater.update_model_version("m", 1, "first")
    assert headwater.get_model_version_by_alias("m", "champion").description == "first"
    assert [v.version for v in headwater.get_latest_versions("m", ["Staging"])] == ["2"]
    assert headwater.get_model_version_download_uri("m", 2) == "s3://bucket/2"
    assert [v.version for v in headwater.search_model_versions("name = 'm'", order_by=["version_number"])] == ["1", "2"]
    headwater.rename_registered_model("m", "n")
    headwater.update_registered_model("n", "renamed")
    assert headwater.get_registered_model("n").description == "renamed"
    headwater.delete_registered_model_alias("n", "champion")
    headwater.delete_model_version_tag("n", 1, "k")
    headwater.delete_model_version("n", 2)
    headwater.set_registered_model_tag("n", "t", "x")
    headwater.delete_registered_model_tag("n", "t")
    model = headwater.get_registered_model("n")
    assert (model.aliases, model.tags, [v.version for v in model.latest_versions]) == ({}, {"team": "a"}, ["1"])
    headwater.delete_registered_model("n")
    assert headwater.search_registered_models() == []


def test_searches_collect_every_page(workdir):
    for i in range(5):
        headwater.create_registered_model(f"model-{i}")
    assert [m.name for m in headwater.search_registered_models("name LIKE 'model-%'")] == [
        f"model-{i}" for i in range(5)
    ]
    assert len(headwater.search_registered_models(max_results=2)) == 2
    page = headwater.list_registered_models(max_results=3)
    assert len(page) == 3 and page.token
    assert len(headwater.list_registered_models(max_results=3, page_token=page.token)) == 2


@pytest.mark.parametrize("variable", ["HEADWATER_REGISTRY_URI", "MLFLOW_REGISTRY_URI"])
def test_registry_uri_from_the_environment(workdir, monkeypatch, variable):
    registry_db = f"sqlite:///{workdir / 'registry.db'}"
    monkeypatch.setenv(variable, registry_db)
    assert headwater.get_registry_uri() == registry_db
    headwater.create_registered_model("elsewhere")
    monkeypatch.delenv(variable)
    assert headwater.get_registry_uri() == f"sqlite:///{workdir / 'tracking.db'}"
    assert headwater.search_registered_models() == []  # the tracking database has no such model
    assert [m.name for m in Client(registry_uri=registry_db).search_registered_models()] == ["elsewhere"]


def test_set_registry_uri_beats_the_environment(workdir, monkeypatch):
    monkeypatch.setenv("HEADWATER_REGISTRY_URI", f"sqlite:///{workdir / 'env.db'}")
    headwater.set_registry_uri(f"sqlite:///{workdir / 'set.db'}")
    headwater.create_registered_model("set-here")
    headwater.set_registry_uri(None)
    assert headwater.search_registered_models() == []
    assert [m.name for m in Client(registry_uri=f"sqlite:///{workdir / 'set.db'}").search_registered_models()] == [
        "set-here"
    ]


def test_the_local_client_accepts_local_sources(client, workdir):
    # Only a server checks sources for its clients: a local user owns the disk anyway.
    client.create_registered_model("local")
    assert client.create_model_version("local", str(workdir)).source == str(workdir)
