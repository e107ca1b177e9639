"""The ``python_function`` flavor for custom models: a ``PythonModel`` subclass or any callable.

Save one with ``headwater.save_model(MyModel(), "path", artifacts={...})`` or
``headwater.log_model(fn, name="model")``. The instance is written with
cloudpickle; loading it back unpickles it, which runs code: load only models
you trust.

This module is also the ``loader_module`` written into such models, so
MLflow's ``mlflow.pyfunc.load_model`` loads them too (through
:func:`_load_pyfunc`) wherever this package is installed.
"""

from __future__ import annotations

from typing import Any

from headwater_flavor_python_function.model import FunctionModel, PythonModel, PythonModelContext

__all__ = ["FunctionModel", "PythonModel", "PythonModelContext"]


def _load_pyfunc(data_path: str, model_config: dict[str, Any] | None = None) -> Any:
    """MLflow's loader contract: the model directory in, an object with ``predict`` out."""
    from headwater.models.mlmodel import PYFUNC_FLAVOR, Model

    from headwater_flavor_python_function.flavor import load_python_model_wrapper

    conf = Model.load(data_path).flavor_conf(PYFUNC_FLAVOR)
    return load_python_model_wrapper(data_path, conf, model_config)
