"""The python_function flavor plugin: callables and PythonModel subclasses with artifacts, both ways with MLflow."""

from __future__ import annotations

import json
import os
import sys

import cloudpickle
import pandas as pd
import pytest
from click.testing import CliRunner

import headwater
from headwater.cli import main
from headwater.exceptions import HeadwaterError
from headwater.models import Model
from headwater_flavor_python_function import PythonModel

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# Classes defined here are pickled by value, as a user's script's would be.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

FRAME = pd.DataFrame({"x": [1.0, 2.0, 3.0]})


class Lookup(PythonModel):
    """Adds an offset read from an artifact file once, in load_context."""

    def load_context(self, context):
        with open(context.artifacts["offset"]) as src:
            self.offset = float(src.read())
        self.scale = context.model_config.get("scale", 1)

    def predict(self, context, model_input, params=None):
        factor = (params or {}).get("factor", 1.0)
        return (model_input["x"] * self.scale + self.offset) * factor


class NoContext(PythonModel):
    def predict(self, model_input, params=None):
        return model_input["x"] * -1


def test_a_plain_function(tmp_path):
    headwater.save_model(lambda df: df["x"] + 1, tmp_path / "m", input_example=FRAME)
    conf = Model.load(str(tmp_path / "m")).flavors["python_function"]
    assert conf["loader_module"] == "headwater_flavor_python_function" and conf["python_model"] == "python_model.pkl"
    assert headwater.load_model(str(tmp_path / "m")).predict(FRAME).tolist() == [2.0, 3.0, 4.0]


def test_a_python_model_with_artifacts_config_and_params(tmp_path):
    (tmp_path / "offset.txt").write_text("10")
    headwater.save_model(Lookup(), tmp_path / "m", artifacts={"offset": str(tmp_path / "offset.txt")},
                         model_config={"scale": 2}, input_example=(FRAME, {"factor": 1.0}))
    (tmp_path / "offset.txt").write_text("999")  # the model keeps its own copy
    conf = Model.load(str(tmp_path / "m")).flavors["python_function"]
    assert conf["artifacts"]["offset"]["path"] == "artifacts/offset/offset.txt"
    loaded = headwater.load_model(str(tmp_path / "m"))
    assert loaded.predict(FRAME).tolist() == [12.0, 14.0, 16.0]
    assert loaded.predict(FRAME, {"factor": 0.5}).tolist() == [6.0, 7.0, 8.0]
    assert headwater.load_model(str(tmp_path / "m"), model_config={"scale": 0}).predict(FRAME).tolist() == [10.0] * 3
    assert isinstance(headwater.load_flavor("python_function", tmp_path / "m"), Lookup)
    assert isinstance(loaded.unwrap_python_model(), Lookup)


def test_predict_without_a_context_argument(tmp_path):
    headwater.save_model(NoContext(), tmp_path / "m")
    assert headwater.load_model(str(tmp_path / "m")).predict(FRAME).tolist() == [-1.0, -2.0, -3.0]


def test_bad_artifact_names_are_refused(tmp_path):
    (tmp_path / "f").write_text("1")
    with pytest.raises(HeadwaterError, match="artifact name"):
        headwater.save_model(Lookup(), tmp_path / "m", artifacts={"../up": str(tmp_path / "f")})


def test_saved_by_headwater_loads_in_mlflow(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    (tmp_path / "offset.txt").write_text("10")
    headwater.save_model(Lookup(), tmp_path / "m", artifacts={"offset": str(tmp_path / "offset.txt")},
                         input_example=(FRAME, {"factor": 1.0}))
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert list(theirs.predict(FRAME)) == list(headwater.load_model(str(tmp_path / "m")).predict(FRAME))
    assert list(theirs.predict(FRAME, params={"factor": 2.0})) == [22.0, 24.0, 26.0]


def test_saved_by_mlflow_loads_in_headwater(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    import mlflow.pyfunc

    class MlflowLookup(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            with open(context.artifacts["offset"]) as src:
                self.offset = float(src.read())

        def predict(self, context, model_input, params=None):
            return model_input["x"] + self.offset

    (tmp_path / "offset.txt").write_text("5")
    mlflow.pyfunc.save_model(str(tmp_path / "m"), python_model=MlflowLookup(),
                             artifacts={"offset": str(tmp_path / "offset.txt")}, input_example=FRAME)
    ours = headwater.load_model(str(tmp_path / "m"))
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert list(ours.predict(FRAME)) == list(theirs.predict(FRAME)) == [6.0, 7.0, 8.0]


def test_plugins_lists_the_three_flavors():
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    provides = {p for record in listed for p in record.get("provides", [])}
    assert {"flavor python_function", "flavor sklearn", "flavor xgboost"} <= provides
    distributions = {record["distribution"] for record in listed}
    assert {"headwater-flavor-python-function", "headwater-flavor-sklearn", "headwater-flavor-xgboost"} <= distributions
