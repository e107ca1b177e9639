"""Model URIs: from any URI a model can be given by, to a local model directory.

Accepted forms (spec/model-format.md §8):

- a local path or ``file:`` URI: used in place, nothing is copied;
- ``runs:/<run_id>/<path>``: if the first segment of ``<path>`` is the name of
  a logged model of that run, that model's files (MLflow 3's ``log_model``);
  otherwise the run's artifacts under ``<path>``;
- ``models:/<model_id>``: a logged model's files;
- ``models:/<name>/<version|stage|latest>`` and ``models:/<name>@<alias>``:
  the registry's download URI for that version, resolved in turn;
- ``mlflow-artifacts:/...`` and any scheme an artifact-repository plugin
  handles: downloaded through that repository.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any
from urllib.parse import unquote, urlsplit

from headwater.exceptions import ErrorCode, HeadwaterError

_DRIVE_RE = re.compile(r"^[a-zA-Z]:[\\/]")
_MAX_HOPS = 10


def _client(client: Any = None) -> Any:
    if client is not None:
        return client
    from headwater.tracking.fluent import _client as fluent_client

    return fluent_client()


def is_local(uri: str) -> bool:
    return bool(_DRIVE_RE.match(uri)) or urlsplit(uri).scheme in ("", "file")


def local_path(uri: str) -> str:
    if _DRIVE_RE.match(uri) or not uri.startswith("file:"):
        return os.path.abspath(uri)
    return os.path.abspath(unquote(urlsplit(uri).path))


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` → (run_id, path); path may be empty."""
    parts = urlsplit(uri)
    path = parts.path
    if parts.scheme != "runs" or parts.netloc or not path.startswith("/") or len(path) <= 1:
        raise HeadwaterError.invalid(
            f"Not a proper runs:/ URI: {uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path'"
        )
    run_id, _, rest = path[1:].partition("/")
    if not run_id:
        raise HeadwaterError.invalid(f"Not a proper runs:/ URI: {uri}: the run id is missing.")
    return run_id, rest.strip("/")


def repository_for(uri: str, client: Any = None) -> Any:
    """An artifact repository rooted at ``uri`` (``mlflow-artifacts:`` goes to the client's server)."""
    client = _client(client)
    resolve = getattr(client.store, "resolve_artifact_uri", None)
    target = resolve(uri) if resolve is not None else uri
    return client.plugin_manager.artifact_repository(target)


def _download(uri: str, sub_path: str, dst_path: str | None, client: Any) -> str:
    if is_local(uri):
        path = os.path.join(local_path(uri), sub_path) if sub_path else local_path(uri)
        if not os.path.exists(path):
            raise HeadwaterError.not_found(f"No model found at {path!r}")
        if dst_path is None:
            return path  # used in place
        import shutil

        target = os.path.join(dst_path, os.path.basename(os.path.normpath(path)))
        if os.path.isdir(path):
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            os.makedirs(dst_path, exist_ok=True)
            shutil.copy2(path, target)
        return target
    dst = dst_path or tempfile.mkdtemp(prefix="headwater-model-")
    return repository_for(uri, client).download_artifacts(sub_path, dst)


def _logged_model_of_run(client: Any, run_id: str, name: str) -> Any | None:
    """The logged model called ``name`` that ``run_id`` produced, if the store keeps logged models."""
    experiment_id = client.get_run(run_id).info.experiment_id
    token = None
    try:
        while True:
            page = client.store.search_logged_models([experiment_id], f"name = '{name}'", page_token=token)
            for model in page.items:
                if model.source_run_id == run_id:
                    return model
            token = page.token
            if not token:
                return None
    except HeadwaterError as err:
        if err.error_code == ErrorCode.NOT_IMPLEMENTED:
            return None
        raise


def resolve_to_storage(model_uri: str, client: Any = None) -> tuple[str, str]:
    """(storage URI, sub-path) that ``model_uri`` stands for, following runs:/ and models:/ hops."""
    client_ = None
    uri = os.fspath(model_uri)
    sub_path = ""
    for _ in range(_MAX_HOPS):
        scheme = "" if _DRIVE_RE.match(uri) else urlsplit(uri).scheme
        if scheme == "runs":
            client_ = client_ or _client(client)
            run_id, path = parse_runs_uri(uri)
            first, _, rest = path.partition("/")
            model = _logged_model_of_run(client_, run_id, first) if first else None
            if model is not None:
                return model.artifact_uri, "/".join(p for p in (rest, sub_path) if p)
            run = client_.get_run(run_id)
            return run.info.artifact_uri, "/".join(p for p in (path, sub_path) if p)
        if scheme == "models":
            from headwater.tracking.model_uri import parse_model_uri

            client_ = client_ or _client(client)
            base, extra = _split_models_sub_path(uri)
            sub_path = "/".join(p for p in (extra, sub_path) if p)
            parsed = parse_model_uri(base)
            if parsed.model_id is not None:
                return client_.store.get_logged_model(parsed.model_id).artifact_uri, sub_path
            uri = _registry_download_uri(client_, base)
            continue
        return uri, sub_path
    raise HeadwaterError.invalid(f"The model URI {model_uri!r} resolves through too many hops.")


def _split_models_sub_path(uri: str) -> tuple[str, str]:
    """``models:/name/1/sub/path`` → (``models:/name/1``, ``sub/path``)."""
    parts = urlsplit(uri)
    segments = parts.path.strip("/").split("/")
    keep = 1 if (len(segments) >= 1 and ("@" in segments[0] or segments[0].startswith("m-"))) else 2
    if len(segments) <= keep:
        return uri, ""
    return f"models:/{'/'.join(segments[:keep])}", "/".join(segments[keep:])


def _registry_download_uri(client: Any, uri: str) -> str:
    from headwater.registry.uri import resolve_registry_uri
    from headwater.tracking.model_uri import model_download_uri

    registry = client.plugin_manager.registry_store(resolve_registry_uri(None, client.tracking_uri))
    return model_download_uri(registry, uri)


def download_model(model_uri: str, dst_path: str | None = None, client: Any = None) -> str:
    """A local directory (or file) holding what ``model_uri`` names; local paths are used in place."""
    storage, sub_path = resolve_to_storage(os.fspath(model_uri), client)
    return _download(storage, sub_path, dst_path, None if is_local(storage) else client)
