"""Where a run's artifacts really are, seen from the server.

A run whose ``artifact_uri`` is proxied (``mlflow-artifacts:/<path>``, or an
``http(s)://…/api/2.0/mlflow-artifacts/artifacts/<path>`` URI) stores its
files under the server's ``--artifacts-destination``; any other URI is opened
with the artifact repository plugin for its scheme.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from headwater.exceptions import HeadwaterError
from headwater.store.artifacts import safe_relative_path

PROXY_SCHEME = "mlflow-artifacts"
PROXY_ROUTE = "/api/2.0/mlflow-artifacts/artifacts"


def proxied_path(artifact_uri: str) -> str | None:
    """The path under the artifacts destination for a proxied URI, else None."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme == PROXY_SCHEME:
        path = parsed.path
    elif parsed.scheme in ("http", "https") and PROXY_ROUTE in parsed.path:
        path = parsed.path.split(PROXY_ROUTE, 1)[1]
    else:
        return None
    return safe_relative_path(path.lstrip("/"))


def join_uri(root: str, path: str) -> str:
    return root.rstrip("/") + "/" + path if path else root


def destination_uri(artifacts_destination: str, artifact_uri: str) -> str | None:
    """The storage URI a proxied ``artifact_uri`` stands for (None if not proxied)."""
    path = proxied_path(artifact_uri)
    if path is None:
        return None
    return join_uri(artifacts_destination, path)


def repository_for(state: Any, artifact_uri: str) -> Any:
    """An artifact repository rooted at the real location of ``artifact_uri``.

    ``state`` is the app's state (``plugin_manager``, ``serve_artifacts``,
    ``artifacts_destination``).
    """
    target = artifact_uri
    if state.serve_artifacts:
        target = destination_uri(state.artifacts_destination, artifact_uri) or artifact_uri
    elif proxied_path(artifact_uri) is not None:
        raise HeadwaterError(
            f"Artifacts at {artifact_uri!r} are served by a proxy, and this server does not serve"
            " artifacts (started with --no-serve-artifacts).",
            "BAD_REQUEST",  # deterministic: a 5xx would send clients into retries
        )
    return state.plugin_manager.artifact_repository(target)
