"""Headwater: ML lifecycle platform, wire-compatible with MLflow.

The fluent tracking API (``headwater.start_run``, ``headwater.log_metric``,
...) and :class:`headwater.Client` are imported lazily so that ``import
headwater`` stays cheap (the server and CLI start fast).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_LAZY = {
    "Client": "headwater.tracking.client",
    "register_external_observer": "headwater.events",
    "save_model": "headwater.models.api",
    "log_model": "headwater.models.api",
    "load_model": "headwater.models.api",
    "load_flavor": "headwater.models.api",
    "predict": "headwater.models.api",
}
_FLUENT = "headwater.tracking.fluent"


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            # A submodule (``from headwater import validation``): the import system loads it
            # when this lookup fails. Importing the fluent API first would slow every start.
            raise AttributeError(f"module 'headwater' has no attribute {name!r}")
        fluent = importlib.import_module(_FLUENT)
        if name not in fluent.__all__:
            raise AttributeError(f"module 'headwater' has no attribute {name!r}")
        value = getattr(fluent, name)
    else:
        value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups (headwater.log_metric in a loop) skip this function
    return value


def __dir__() -> list[str]:
    fluent = importlib.import_module(_FLUENT)
    return sorted(set(globals()) | set(_LAZY) | set(fluent.__all__))
