"""Models in MLflow's format: save, log, load, predict and serve.

- :mod:`~headwater.models.mlmodel`: the MLmodel file;
- :mod:`~headwater.models.signature` and :mod:`~headwater.models.enforcement`:
  signatures, their inference from examples, and their checks at predict time;
- :mod:`~headwater.models.flavor`: the contract flavor plugins implement;
- :mod:`~headwater.models.pyfunc`: ``PyFuncModel``, the generic interface;
- :mod:`~headwater.models.uri`: model URIs to local directories;
- :mod:`~headwater.models.serving`: the scoring server.

Names are resolved lazily so that ``import headwater.models`` loads neither
pandas nor numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "save_model": "headwater.models.api",
    "log_model": "headwater.models.api",
    "load_model": "headwater.models.api",
    "load_flavor": "headwater.models.api",
    "predict": "headwater.models.api",
    "ModelInfo": "headwater.models.api",
    "Model": "headwater.models.mlmodel",
    "PyFuncModel": "headwater.models.pyfunc",
    "load_pyfunc": "headwater.models.pyfunc",
    "Flavor": "headwater.models.flavor",
    "ModelSignature": "headwater.models.signature",
    "Schema": "headwater.models.signature",
    "ColSpec": "headwater.models.signature",
    "TensorSpec": "headwater.models.signature",
    "ParamSpec": "headwater.models.signature",
    "ParamSchema": "headwater.models.signature",
    "infer_signature": "headwater.models.signature",
    "SchemaEnforcementError": "headwater.models.enforcement",
    "download_model": "headwater.models.uri",
    "serve": "headwater.models.serving.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'headwater.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
