"""The xgboost flavor plugin: boosters and sklearn-API models, both ways with MLflow."""

from __future__ import annotations

import os

import numpy as np
import pytest
import yaml

import headwater
from headwater.exceptions import HeadwaterError
from headwater.models import Model

xgb = pytest.importorskip("xgboost")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 1.0], [4.0, 0.0], [5.0, 1.0]])
Y = np.array([1.0, 2.5, 3.5, 4.0, 6.0])


@pytest.fixture
def booster():
    return xgb.train({"max_depth": 2, "eta": 0.5}, xgb.DMatrix(X, label=Y), num_boost_round=5)


@pytest.mark.parametrize("model_format", ["ubj", "json"])
def test_booster_round_trips(tmp_path, booster, model_format):
    headwater.save_model(booster, tmp_path / "m", model_format=model_format, input_example=X[:2])
    mlmodel = Model.load(str(tmp_path / "m"))
    conf = mlmodel.flavors["xgboost"]
    assert (conf["model_class"], conf["data"], conf["xgb_version"]) == ("xgboost.core.Booster", f"model.{model_format}",
                                                                       xgb.__version__)
    assert mlmodel.flavors["python_function"]["loader_module"] == "mlflow.xgboost"
    expected = booster.predict(xgb.DMatrix(X))
    np.testing.assert_allclose(headwater.load_model(str(tmp_path / "m")).predict(X), expected)
    native = headwater.load_flavor("xgboost", tmp_path / "m")
    np.testing.assert_allclose(native.predict(xgb.DMatrix(X)), expected)


def test_sklearn_api_model_keeps_its_class(tmp_path):
    regressor = xgb.XGBRegressor(n_estimators=4, max_depth=2).fit(X, Y)
    headwater.save_model(regressor, tmp_path / "m")
    assert type(headwater.load_flavor("xgboost", tmp_path / "m")) is xgb.XGBRegressor
    np.testing.assert_allclose(headwater.load_model(str(tmp_path / "m")).predict(X), regressor.predict(X))


def test_a_model_class_outside_xgboost_is_refused(tmp_path, booster):
    headwater.save_model(booster, tmp_path / "m")
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    mlmodel["flavors"]["xgboost"]["model_class"] = "os.system"
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(HeadwaterError, match="not an XGBoost class"):
        headwater.load_flavor("xgboost", tmp_path / "m")


def test_interoperates_with_mlflow_both_ways(tmp_path, booster):
    mlflow = pytest.importorskip("mlflow")
    import mlflow.xgboost

    mlflow.xgboost.save_model(booster, str(tmp_path / "by_mlflow"), input_example=X[:2])
    np.testing.assert_allclose(headwater.load_model(str(tmp_path / "by_mlflow")).predict(X),
                               mlflow.pyfunc.load_model(str(tmp_path / "by_mlflow")).predict(X))
    headwater.save_model(booster, tmp_path / "by_headwater", input_example=X[:2])
    np.testing.assert_allclose(mlflow.pyfunc.load_model(str(tmp_path / "by_headwater")).predict(X),
                               headwater.load_model(str(tmp_path / "by_headwater")).predict(X))
    assert isinstance(mlflow.xgboost.load_model(str(tmp_path / "by_headwater")), xgb.Booster)
