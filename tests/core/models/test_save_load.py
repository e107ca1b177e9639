"""save_model / load_model / log_model / predict with real models, through the installed flavor plugins."""

from __future__ import annotations

import json
import time
from importlib import metadata

import numpy as np
import pandas as pd
import pytest
import yaml

import headwater
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.models import Model, PyFuncModel, SchemaEnforcementError
from headwater.models.flavor import Flavor
from headwater.plugins import hookimpl
from headwater.plugins.manager import make_plugin_manager, reset_plugin_manager
from headwater.plugins.types import FlavorProvider


def test_save_writes_mlmodel_example_signature_and_pinned_environment(tmp_path, linear, frame):
    path = tmp_path / "model"
    headwater.save_model(linear, path, input_example=frame.iloc[:2])
    files = {p.name for p in path.iterdir()}
    assert {"MLmodel", "model.pkl", "input_example.json", "serving_input_example.json", "requirements.txt",
            "python_env.yaml", "conda.yaml"} <= files
    mlmodel = Model.load(str(path))
    assert set(mlmodel.flavors) == {"python_function", "sklearn"}
    assert mlmodel.flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    assert [s.name for s in mlmodel.signature.inputs.specs] == ["a", "b"]
    assert mlmodel.saved_input_example_info == {"artifact_path": "input_example.json", "pandas_orient": "split",
                                                "serving_input_path": "serving_input_example.json", "type": "dataframe"}
    assert json.loads((path / "input_example.json").read_text()) == {"columns": ["a", "b"], "data": [[1.0, 0], [2.0, 1]]}
    requirements = (path / "requirements.txt").read_text().split()
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in requirements
    assert f"cloudpickle=={metadata.version('cloudpickle')}" in requirements
    env = yaml.safe_load((path / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"] and env["python"].count(".") == 2
    conda = yaml.safe_load((path / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": requirements}
    assert mlmodel.model_size_bytes > 0


def test_loaded_model_predicts_like_the_original_on_every_input_form(tmp_path, linear, frame):
    headwater.save_model(linear, tmp_path / "m", input_example=frame)
    model = headwater.load_model(str(tmp_path / "m"))
    assert isinstance(model, PyFuncModel)
    expected = linear.predict(frame)
    np.testing.assert_allclose(model.predict(frame), expected)
    np.testing.assert_allclose(model.predict(frame.to_dict("list")), expected)
    np.testing.assert_allclose(model.predict(frame.to_dict("records")), expected)
    np.testing.assert_allclose(model.predict([list(row) for row in frame.itertuples(index=False)]), expected)
    np.testing.assert_allclose(headwater.predict(model, frame), expected)
    np.testing.assert_allclose(headwater.predict(str(tmp_path / "m"), frame), expected)
    example = model.load_input_example()
    pd.testing.assert_frame_equal(example, frame)


def test_signature_mismatch_at_predict_time_is_a_clear_error(tmp_path, linear, frame):
    headwater.save_model(linear, tmp_path / "m", input_example=frame)
    model = headwater.load_model(str(tmp_path / "m"))
    with pytest.raises(SchemaEnforcementError, match=r"missing inputs \['b'\]"):
        model.predict(pd.DataFrame({"a": [1.0]}))


def test_load_flavor_gives_the_native_model(tmp_path, linear, frame):
    headwater.save_model(linear, tmp_path / "m")
    native = headwater.load_flavor("sklearn", tmp_path / "m")
    assert type(native) is type(linear)
    np.testing.assert_allclose(native.coef_, linear.coef_)
    assert type(headwater.load_model(str(tmp_path / "m"), flavor="sklearn")) is type(linear)


def test_signature_false_saves_none_and_an_explicit_one_wins(tmp_path, linear, frame):
    headwater.save_model(linear, tmp_path / "none", input_example=frame, signature=False)
    assert Model.load(str(tmp_path / "none")).signature is None
    explicit = headwater.models.infer_signature(frame[["a"]])
    headwater.save_model(linear, tmp_path / "explicit", signature=explicit)
    assert Model.load(str(tmp_path / "explicit")).signature == explicit


def test_saving_over_a_non_empty_directory_is_refused(tmp_path, linear):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(HeadwaterError) as info:
        headwater.save_model(linear, tmp_path / "taken")
    assert info.value.error_code == ErrorCode.RESOURCE_ALREADY_EXISTS


def test_a_model_folder_without_mlmodel_is_refused(tmp_path):
    with pytest.raises(HeadwaterError, match="MLmodel"):
        headwater.load_model(str(tmp_path))


def test_an_unknown_flavor_names_the_installed_ones_and_the_plugin_to_install(tmp_path):
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: acme_models.catboost\n  catboost: {}\n"
    )
    with pytest.raises(HeadwaterError) as info:
        headwater.load_model(str(tmp_path))
    message = info.value.message
    assert "'catboost'" in message and "sklearn" in message and "pip install headwater-flavor-catboost" in message
    with pytest.raises(HeadwaterError, match="headwater-flavor-catboost"):
        headwater.load_flavor("catboost", tmp_path)


def test_a_model_without_python_function_must_be_loaded_by_flavor(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors:\n  crate: {version: 0.1.0, model: crate.bin}\n")
    with pytest.raises(HeadwaterError, match="no python_function flavor"):
        headwater.load_model(str(tmp_path))


def test_the_most_specific_flavor_is_chosen_and_unsavable_objects_are_refused(tmp_path):
    xgboost = pytest.importorskip("xgboost")
    regressor = xgboost.XGBRegressor(n_estimators=2, max_depth=2).fit(np.eye(3), [0.0, 1.0, 2.0])
    headwater.save_model(regressor, tmp_path / "x")  # also an sklearn estimator: xgboost is more specific
    assert "xgboost" in Model.load(str(tmp_path / "x")).flavors
    with pytest.raises(HeadwaterError, match="No installed flavor can save"):
        headwater.save_model(object(), tmp_path / "nothing")


# -- a third-party flavor, through the plugin manager only ---------------------------------------
class _Doubler:
    """The kind of model a third-party flavor knows: doubles its input."""

    def double(self, values):
        return [2 * v for v in values]


class _DoublerFlavor(Flavor):
    name = "doubler"
    loader_modules = ("doubler_flavor",)
    specificity = 30

    def can_save(self, model):
        return isinstance(model, _Doubler)

    def save(self, model, path, mlmodel, code=None, **options):
        from headwater.models.mlmodel import add_pyfunc

        (path_obj := __import__("pathlib").Path(path) / "doubler.txt").write_text("2")
        add_pyfunc(mlmodel, loader_module="doubler_flavor", data=path_obj.name)
        mlmodel.add_flavor(self.name, factor=2)
        return ["doubler-lib==1.0"]

    def load(self, model_path, flavor_conf):
        return _Doubler()

    def load_pyfunc(self, model_path, pyfunc_conf, model_config=None):
        doubler = _Doubler()

        class Predictor:
            def predict(self, data, params=None):  # the signature turned the list into a one-column frame
                return doubler.double(data.iloc[:, 0].tolist() if hasattr(data, "iloc") else list(data))

        return Predictor()


class _DoublerPlugin:
    __name__ = "test-doubler-flavor"

    @hookimpl
    def headwater_flavors(self):
        yield FlavorProvider(name="doubler", flavor=_DoublerFlavor())


def test_a_third_party_flavor_plugin_needs_no_core_change(tmp_path):
    manager = make_plugin_manager()
    manager.register(_DoublerPlugin(), "test-doubler-flavor", "test-dist", "0")
    reset_plugin_manager(manager)
    try:
        headwater.save_model(_Doubler(), tmp_path / "d", input_example=[1, 2])
        saved = Model.load(str(tmp_path / "d"))
        assert saved.flavors["doubler"] == {"factor": 2}
        assert (tmp_path / "d" / "requirements.txt").read_text().split() == ["doubler-lib==1.0"]
        assert headwater.load_model(str(tmp_path / "d")).predict([1, 5]) == [2, 10]
        assert isinstance(headwater.load_flavor("doubler", tmp_path / "d"), _Doubler)
        described = {r.name: r.provides for r in manager.describe()}
        assert "flavor doubler" in described["test-doubler-flavor"]
    finally:
        reset_plugin_manager()


# -- logging to runs ------------------------------------------------------------------------------------
def test_log_model_records_a_logged_model_and_loads_by_every_uri(tracking, linear, frame):
    with headwater.start_run() as run:
        info = headwater.log_model(linear, name="model", input_example=frame, params={"alpha": 1})
    client = headwater.Client()
    logged = client.get_logged_model(info.model_id)
    assert logged.status.value == "LOGGED_MODEL_READY" and logged.source_run_id == run.run_id
    assert logged.params == {"alpha": "1"} and logged.name == "model"
    assert [o.model_id for o in client.get_run(run.run_id).outputs.model_outputs] == [info.model_id]
    mlmodel = Model.load(client.download_model(info.model_uri))
    assert (mlmodel.model_id, mlmodel.run_id, mlmodel.artifact_path) == (info.model_id, run.run_id, logged.artifact_uri)
    for uri in (info.model_uri, f"runs:/{run.run_id}/model"):
        np.testing.assert_allclose(headwater.load_model(uri).predict(frame), linear.predict(frame))
    assert (info.model_uri, info.artifact_path) == (f"models:/{info.model_id}", "model")


def test_runs_uri_of_a_plain_artifact_path_and_a_sub_path(tracking, linear, frame, tmp_path):
    headwater.save_model(linear, tmp_path / "local")
    with headwater.start_run() as run:
        headwater.log_artifacts(str(tmp_path / "local"), "by_hand")
    np.testing.assert_allclose(headwater.load_model(f"runs:/{run.run_id}/by_hand").predict(frame), linear.predict(frame))
    with pytest.raises(HeadwaterError):
        headwater.load_model(f"runs:/{run.run_id}/nothing-here")


def test_log_model_falls_back_to_run_artifacts_without_logged_models(tmp_path, monkeypatch, linear, frame):
    pytest.importorskip("headwater_store_memory")
    monkeypatch.setenv("HEADWATER_TRACKING_URI", "memory:")
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    reset_plugin_manager()
    try:
        with headwater.start_run() as run:
            info = headwater.log_model(linear, name="model")
        assert info.model_uri == f"runs:/{run.run_id}/model" and info.model_id is None
        history = json.loads(headwater.get_run(run.run_id).data.tags["mlflow.log-model.history"])
        assert history[0]["artifact_path"] == "model" and "sklearn" in history[0]["flavors"]
        np.testing.assert_allclose(headwater.load_model(info.model_uri).predict(frame), linear.predict(frame))
    finally:
        while headwater.active_run():
            headwater.end_run()
        reset_plugin_manager()


def test_logged_model_store_errors(tracking):
    client = headwater.Client()
    with pytest.raises(HeadwaterError) as info:
        client.get_logged_model("m-" + "0" * 32)
    assert info.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST
    with pytest.raises(HeadwaterError) as info:
        client.create_logged_model("0", name="a/b")
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
    with pytest.raises(HeadwaterError, match="not found"):
        headwater.load_model("models:/m-" + "1" * 32)


def test_log_model_can_register_the_model(tracking, linear, frame):
    with headwater.start_run():
        info = headwater.log_model(linear, name="model", registered_model_name="price")
    for uri in ("models:/price/1", "models:/price/latest", info.model_uri):
        np.testing.assert_allclose(headwater.load_model(uri).predict(frame), linear.predict(frame))


def test_logging_a_model_announces_logged_model_events(tracking, linear):
    from headwater.events import signal

    heard = []

    def record(sender, event, **extra):
        heard.append((event.name, event.payload))

    names = ("create_logged_model", "finalize_logged_model", "log_outputs", "set_logged_model_tags")
    for name in names:
        signal(name).connect(record)
    try:
        with headwater.start_run() as run:
            info = headwater.log_model(linear, name="model")
        headwater.Client().set_logged_model_tags(info.model_id, {"k": "v"})
        deadline = time.monotonic() + 10  # receivers may run off the caller's thread
        while len(heard) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for name in names:
            signal(name).disconnect(record)
    by_name = dict(heard)
    assert by_name["create_logged_model"].model_id == info.model_id
    assert by_name["finalize_logged_model"].status == "LOGGED_MODEL_READY"
    assert [(m.model_id, m.step) for m in by_name["log_outputs"].models] == [(info.model_id, 0)]
    assert by_name["log_outputs"].run_id == run.run_id
    assert by_name["set_logged_model_tags"].tags == {"k": "v"}
