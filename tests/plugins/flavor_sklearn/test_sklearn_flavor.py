"""The sklearn flavor plugin: every serialization format, and models MLflow saved (and vice versa)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import yaml

import headwater
from headwater.exceptions import HeadwaterError
from headwater.models import Model

linear_model = pytest.importorskip("sklearn.linear_model")
pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 1.0, 1.5, 0.0]})
TARGET = [0, 1, 1, 0]


@pytest.fixture
def classifier():
    return pipeline.make_pipeline(preprocessing.StandardScaler(), linear_model.LogisticRegression()).fit(FRAME, TARGET)


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "pickle", "skops"])
def test_every_format_round_trips(tmp_path, classifier, serialization_format):
    if serialization_format == "skops":
        pytest.importorskip("skops")
    headwater.save_model(classifier, tmp_path / "m", serialization_format=serialization_format)
    conf = Model.load(str(tmp_path / "m")).flavors["sklearn"]
    assert conf["serialization_format"] == serialization_format
    assert (tmp_path / "m" / conf["pickled_model"]).is_file()
    np.testing.assert_array_equal(headwater.load_model(str(tmp_path / "m")).predict(FRAME), classifier.predict(FRAME))
    native = headwater.load_flavor("sklearn", tmp_path / "m")
    np.testing.assert_allclose(native.predict_proba(FRAME), classifier.predict_proba(FRAME))


def test_another_predict_function(tmp_path, classifier):
    headwater.save_model(classifier, tmp_path / "m", pyfunc_predict_fn="predict_proba")
    np.testing.assert_allclose(headwater.load_model(str(tmp_path / "m")).predict(FRAME), classifier.predict_proba(FRAME))


def test_unknown_format_and_options_are_refused(tmp_path, classifier):
    with pytest.raises(HeadwaterError, match="serialization format"):
        headwater.save_model(classifier, tmp_path / "a", serialization_format="joblib")
    with pytest.raises(HeadwaterError, match="Unknown options"):
        headwater.save_model(classifier, tmp_path / "b", compress=True)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_old_layout_with_data_and_no_serialization_format(tmp_path, classifier):
    """MLflow 1.x wrote ``data: model.pkl`` and no serialization_format (meaning pickle)."""
    import pickle

    (tmp_path / "model.pkl").write_bytes(pickle.dumps(classifier))
    (tmp_path / "MLmodel").write_text(yaml.safe_dump({
        "flavors": {"python_function": {"loader_module": "mlflow.sklearn", "data": "model.pkl", "env": "conda.yaml"},
                    "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "0.24.0"}}}))
    np.testing.assert_array_equal(headwater.load_model(str(tmp_path)).predict(FRAME), classifier.predict(FRAME))


def test_a_model_saved_by_mlflow_predicts_identically_in_headwater(tmp_path, classifier):
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    mlflow_sklearn.save_model(classifier, str(tmp_path / "m"), input_example=FRAME.iloc[:2])  # skops by default
    ours = headwater.load_model(str(tmp_path / "m"))
    import mlflow.pyfunc

    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(ours.predict(FRAME), theirs.predict(FRAME))
    assert ours.signature.to_dict() == theirs.metadata.signature.to_dict()
    assert type(headwater.load_flavor("sklearn", tmp_path / "m")) is type(classifier)


def test_a_model_saved_by_headwater_predicts_identically_in_mlflow(tmp_path, classifier):
    mlflow = pytest.importorskip("mlflow")
    headwater.save_model(classifier, tmp_path / "m", input_example=FRAME)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(theirs.predict(FRAME), classifier.predict(FRAME))
    assert theirs.metadata.signature.to_dict() == Model.load(str(tmp_path / "m")).signature.to_dict()
    native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(native.predict_proba(FRAME), classifier.predict_proba(FRAME))
