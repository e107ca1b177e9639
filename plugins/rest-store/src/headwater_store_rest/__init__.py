"""Headwater over HTTP: a tracking store for ``http(s)://`` tracking URIs and an
artifact repository for ``mlflow-artifacts:`` URIs, both talking to a server
that speaks MLflow's REST API (``headwater server`` or ``mlflow server``).

Names resolve lazily: loading the plugin's entry point must not import
``requests`` (every ``headwater`` command loads it).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "HttpConfig": "headwater_store_rest.transport",
    "RestClient": "headwater_store_rest.transport",
    "RestStore": "headwater_store_rest.store",
    "ProxyArtifactRepository": "headwater_store_rest.artifacts",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'headwater_store_rest' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
