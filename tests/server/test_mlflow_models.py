"""Models through a live ``headwater server``: MLflow 3's client logging and loading, and Headwater's.

``mlflow.<flavor>.log_model`` records a logged model (``logged-models`` endpoints,
``runs/outputs``, the artifact proxy); ``runs:/<run>/<name>`` and
``models:/<model_id>`` then load in MLflow and in Headwater alike.
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402

import headwater  # noqa: E402
from headwater.plugins.manager import reset_plugin_manager  # noqa: E402
from headwater.tracking import uri as uri_module  # noqa: E402

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 1]})
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
        patch.setenv("HEADWATER_TRACKING_URI", tracking_server.url)
        mlflow.set_tracking_uri(tracking_server.url)
        uri_module.set_tracking_uri(None)
        reset_plugin_manager()
        yield tracking_server.url
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        reset_plugin_manager()


@pytest.fixture(scope="module")
def model():
    return LinearRegression().fit(FRAME, 2 * FRAME["a"] + 3 * FRAME["b"] + 1)


@pytest.fixture
def experiment_id(server_url):
    return MlflowClient(server_url).create_experiment(f"models-{uuid.uuid4().hex[:10]}")


def test_mlflow_log_model_then_load_by_runs_and_models_uris_in_both(server_url, experiment_id, model):
    with mlflow.start_run(experiment_id=experiment_id) as run:
        info = mlflow.sklearn.log_model(model, name="model", input_example=FRAME.iloc[:2])
    expected = model.predict(FRAME)
    for uri in (f"runs:/{run.info.run_id}/model", info.model_uri):
        np.testing.assert_allclose(mlflow.pyfunc.load_model(uri).predict(FRAME), expected)
        np.testing.assert_allclose(headwater.load_model(uri).predict(FRAME), expected)
    client = MlflowClient(server_url)
    logged = client.get_logged_model(info.model_id)
    assert (logged.name, logged.source_run_id, logged.status.to_int()) == ("model", run.info.run_id, 2)
    assert logged.artifact_location == f"mlflow-artifacts:/{experiment_id}/models/{info.model_id}/artifacts"
    outputs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    names = {f.path for f in client.list_artifacts(run.info.run_id, "model")}
    assert "model/MLmodel" in names


def test_headwater_log_model_loads_in_mlflow(server_url, experiment_id, model):
    with headwater.start_run(experiment_id=experiment_id) as run:
        info = headwater.log_model(model, name="hw-model", input_example=FRAME)
    expected = model.predict(FRAME)
    for uri in (f"runs:/{run.run_id}/hw-model", info.model_uri):
        np.testing.assert_allclose(mlflow.pyfunc.load_model(uri).predict(FRAME), expected)
    native = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_allclose(native.coef_, model.coef_)
    searched = MlflowClient(server_url).search_logged_models([experiment_id], filter_string="name = 'hw-model'")
    assert [m.model_id for m in searched] == [info.model_id]


def test_registered_model_from_log_model(server_url, experiment_id, model):
    name = f"reg-{uuid.uuid4().hex[:8]}"
    with mlflow.start_run(experiment_id=experiment_id):
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name)
    expected = model.predict(FRAME)
    np.testing.assert_allclose(mlflow.pyfunc.load_model(f"models:/{name}/1").predict(FRAME), expected)
    np.testing.assert_allclose(headwater.load_model(f"models:/{name}/1").predict(FRAME), expected)
    np.testing.assert_allclose(headwater.load_model(f"models:/{name}/latest").predict(FRAME), expected)
    tags = MlflowClient(server_url).get_logged_model(info.model_id).tags
    assert "mlflow.modelVersions" in tags


def test_logged_model_tags_search_pages_and_errors(server_url, experiment_id):
    client = MlflowClient(server_url)
    created = [client.create_logged_model(experiment_id, name=f"m{i}", tags={"i": str(i)}) for i in range(3)]
    client.set_logged_model_tags(created[0].model_id, {"stage": "dev"})
    client.delete_logged_model_tag(created[0].model_id, "i")
    assert client.get_logged_model(created[0].model_id).tags == {"stage": "dev"}
    first = client.search_logged_models([experiment_id], max_results=2)
    second = client.search_logged_models([experiment_id], max_results=2, page_token=first.token)
    assert len(first) == 2 and len(second) == 1 and second.token is None
    assert {m.model_id for m in [*first, *second]} == {m.model_id for m in created}
    assert [m.name for m in client.search_logged_models([experiment_id], filter_string="tags.i = '2'")] == ["m2"]
    finalized = client.finalize_logged_model(created[1].model_id, mlflow.entities.LoggedModelStatus.READY)
    assert finalized.status.to_int() == 2
    client.delete_logged_model(created[2].model_id)
    with pytest.raises(MlflowException) as info:
        client.get_logged_model(created[2].model_id)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as info:
        client.create_logged_model(experiment_id, name="bad/name")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as info:
        client.get_logged_model("m-" + "0" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
