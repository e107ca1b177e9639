"""``python_function``: the one interface every loaded model offers.

:func:`load_pyfunc` reads a model directory's MLmodel, finds the code that
loads its ``python_function`` flavor (a flavor plugin claiming the
``loader_module``, else that module itself if it is installed, which is
MLflow's own contract), and wraps the result in :class:`PyFuncModel`.

``PyFuncModel.predict`` takes a pandas DataFrame, a numpy array, a dict or a
list; with a signature it checks and converts the input and params first
(:mod:`headwater.models.enforcement`).
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Any

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.models.enforcement import enforce_inputs, enforce_params
from headwater.models.examples import load_input_example
from headwater.models.flavor import flavor_for_loader_module, import_loader_module
from headwater.models.mlmodel import PYFUNC_FLAVOR, Model

# MLflow writes these loader modules; the flavor named here is what to install if none claims them.
_FLAVOR_OF_LOADER = {"mlflow.pyfunc.model": "python_function"}


def _flavor_hint(loader_module: str) -> str:
    if loader_module in _FLAVOR_OF_LOADER:
        return _FLAVOR_OF_LOADER[loader_module]
    last = loader_module.rsplit(".", 1)[-1]
    return last.removeprefix("headwater_flavor_") or loader_module


def _accepts_params(predict: Any) -> bool:
    try:
        parameters = inspect.signature(predict).parameters
    except (TypeError, ValueError):
        return False
    return "params" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class PyFuncModel:
    """A loaded model behind the generic ``predict(data, params=None)``."""

    def __init__(self, metadata: Model, implementation: Any, model_path: str, loader_module: str):
        self.metadata = metadata
        self._impl = implementation
        self.model_path = model_path
        self.loader_module = loader_module
        predict = getattr(implementation, "predict", None)
        if predict is None:
            raise HeadwaterError.invalid(f"The loader {loader_module!r} returned an object without predict().")
        self._predict_fn = predict
        self._takes_params = _accepts_params(predict)

    @property
    def signature(self) -> Any:
        return self.metadata.signature

    @property
    def input_schema(self) -> Any:
        return self.metadata.get_input_schema()

    @property
    def output_schema(self) -> Any:
        return self.metadata.get_output_schema()

    @property
    def params_schema(self) -> Any:
        return self.metadata.get_params_schema()

    @property
    def model_id(self) -> str | None:
        return self.metadata.model_id

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on ``data``; inputs and params are checked against the signature first."""
        data = enforce_inputs(data, self.input_schema)
        params = enforce_params(params, self.params_schema)
        if self._takes_params:
            return self._predict_fn(data, params=params)
        return self._predict_fn(data)

    def get_raw_model(self) -> Any:
        """The flavor's own object (an sklearn estimator, a PythonModel, ...)."""
        raw = getattr(self._impl, "get_raw_model", None)
        return raw() if raw is not None else self._impl

    def unwrap_python_model(self) -> Any:
        python_model = getattr(self._impl, "python_model", None)
        if python_model is None:
            raise HeadwaterError.invalid("This model was not saved from a PythonModel.")
        return python_model

    def load_input_example(self) -> Any:
        return load_input_example(self.model_path, self.metadata.saved_input_example_info)

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        return f"<PyFuncModel loader_module={self.loader_module!r} flavors=[{flavors}] path={self.model_path!r}>"


def add_code_to_path(model_path: str, conf: dict[str, Any]) -> None:
    """Put the model's ``code`` directory on ``sys.path`` (models saved with code_paths)."""
    code = conf.get("code")
    if not code:
        return
    code_dir = os.path.join(model_path, code)
    if os.path.isdir(code_dir) and code_dir not in sys.path:
        sys.path.insert(0, code_dir)


def load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None, plugin_manager: Any = None) -> PyFuncModel:
    """Load the model in the local directory ``model_path`` as a :class:`PyFuncModel`."""
    model_path = os.path.abspath(os.fspath(model_path))
    mlmodel = Model.load(model_path)
    if PYFUNC_FLAVOR not in mlmodel.flavors:
        raise HeadwaterError(
            f"The model at {model_path!r} has no python_function flavor, only {sorted(mlmodel.flavors)}:"
            f" load it with load_flavor(<flavor>, path) instead.",
            ErrorCode.INVALID_PARAMETER_VALUE,
        )
    conf = mlmodel.flavors[PYFUNC_FLAVOR]
    loader_module = conf.get("loader_module")
    if not loader_module:
        raise HeadwaterError.invalid(f"The python_function flavor of {model_path!r} names no loader_module.")
    add_code_to_path(model_path, conf)
    config = {**(conf.get("config") or {}), **(model_config or {})}
    flavor = flavor_for_loader_module(loader_module, plugin_manager)
    if flavor is not None:
        impl = flavor.load_pyfunc(model_path, conf, config or None)
    else:
        module = import_loader_module(loader_module, _flavor_hint(loader_module))
        data_path = os.path.join(model_path, conf["data"]) if conf.get("data") else model_path
        loader = module._load_pyfunc
        takes_config = len(inspect.signature(loader).parameters) > 1
        impl = loader(data_path, config or None) if takes_config else loader(data_path)
    return PyFuncModel(mlmodel, impl, model_path, loader_module)
