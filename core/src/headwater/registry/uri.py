"""Which registry store the client talks to.

Order of precedence: the argument given to a client, then
:func:`set_registry_uri`, then ``HEADWATER_REGISTRY_URI``, then
``MLFLOW_REGISTRY_URI``, then the tracking URI (the registry lives in the
tracking database unless told otherwise).
"""

from __future__ import annotations

import os

from headwater.tracking.uri import first_env, resolve_tracking_uri

REGISTRY_URI_ENV = ("HEADWATER_REGISTRY_URI", "MLFLOW_REGISTRY_URI")

_registry_uri: str | None = None


def set_registry_uri(uri: str | os.PathLike[str] | None) -> None:
    """Use ``uri`` for clients created without one; None goes back to the environment/tracking URI."""
    global _registry_uri
    _registry_uri = None if uri is None else os.fspath(uri)


def resolve_registry_uri(uri: str | None = None, tracking_uri: str | None = None) -> str:
    if uri:
        return uri
    if _registry_uri is not None:
        return _registry_uri
    return first_env(REGISTRY_URI_ENV) or resolve_tracking_uri(tracking_uri)


def get_registry_uri() -> str:
    """The registry URI a client created now would use."""
    return resolve_registry_uri()
