"""Which tracking store and artifact root the client talks to.

Order of precedence for the tracking URI: the argument given to a client,
then :func:`set_tracking_uri`, then ``HEADWATER_TRACKING_URI``, then
``MLFLOW_TRACKING_URI`` (so scripts written for MLflow keep working), then an
SQLite file ``headwater.db`` in the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

TRACKING_URI_ENV = ("HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI")
ARTIFACT_ROOT_ENV = ("HEADWATER_ARTIFACT_ROOT", "MLFLOW_ARTIFACT_ROOT")
DEFAULT_DB_FILE = "headwater.db"

_tracking_uri: str | None = None


def first_env(names: tuple[str, ...]) -> str | None:
    """The value of the first of ``names`` set to a non-empty string."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _as_uri(uri: str | os.PathLike[str]) -> str:
    if isinstance(uri, Path):
        return uri.absolute().as_uri()
    return os.fspath(uri)


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Use ``uri`` for clients created without one; None goes back to the environment/default."""
    global _tracking_uri
    _tracking_uri = None if uri is None else _as_uri(uri)


def default_tracking_uri() -> str:
    """``sqlite:///<cwd>/headwater.db``: absolute, so a later ``chdir`` keeps the same store."""
    return f"sqlite:///{os.path.abspath(DEFAULT_DB_FILE)}"


def resolve_tracking_uri(uri: str | os.PathLike[str] | None = None) -> str:
    if uri is not None:
        return _as_uri(uri)
    if _tracking_uri is not None:
        return _tracking_uri
    return first_env(TRACKING_URI_ENV) or default_tracking_uri()


def get_tracking_uri() -> str:
    """The tracking URI a client created now would use."""
    return resolve_tracking_uri()


def artifact_root() -> str | None:
    """Default artifact root for new experiments, or None to let the store decide."""
    return first_env(ARTIFACT_ROOT_ENV)
