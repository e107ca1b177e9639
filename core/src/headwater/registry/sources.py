"""Which ``source`` a model version may have (spec/security.md §1, validation-and-limits.md §9).

A version's source is later read back by whoever downloads or loads the
model, so a source that names files the registering run does not own would
let any client read the server's disk. The rule: decode the source fully,
refuse ``..`` and NUL in any encoding, and then

- a local path (no scheme, ``file:``, or a drive letter) needs a ``run_id``
  whose artifact location is local, and must resolve (symlinks followed)
  inside it;
- an ``mlflow-artifacts:`` source, or an ``http(s)`` URL of an artifact proxy
  (``/api/2.0/mlflow-artifacts/artifacts``), needs a ``run_id`` and must lie
  under that run's ``artifact_uri`` (same scheme, host and leading path);
- ``runs:/<id>/...`` needs ``run_id`` = ``<id>`` and no host;
- ``models:/<model_id>`` needs the same ``model_id``; other ``models:/`` sources
  must already be resolved to ``models:/<name>/<N>`` (the service does that);
- anything else (``s3://``, ``gs://`` ...) is allowed.

``HEADWATER_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX`` (or MLflow's name for
it) further restricts sources to those the regular expression matches.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable
from urllib.parse import unquote, unquote_plus, urlsplit

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry.validation import MAX_SOURCE_LENGTH
from headwater.tracking.model_uri import parse_model_uri
from headwater.tracking.uri import first_env

SOURCE_REGEX_ENV = (
    "HEADWATER_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX",
    "MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX",
)
PROXY_ROUTE = ("api", "2.0", "mlflow-artifacts", "artifacts")
_LOCAL_SCHEMES = ("", "file")
_MAX_DECODE_ROUNDS = 10

RunLookup = Callable[[str], Any]


def _refuse(source: str, why: str) -> HeadwaterError:
    return HeadwaterError.invalid(f"Invalid model version source: '{source}'. {why}")


def fully_decoded(source: str) -> str:
    """Percent-decode until nothing changes (double and triple encodings included)."""
    text = source
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote_plus(text)
        if decoded == text:
            return text
        text = decoded
    raise _refuse(source, "It is percent-encoded too many times over.")


def _has_traversal(text: str) -> bool:
    return "\x00" in text or ".." in re.split(r"[\\/]", text)


def _is_local(scheme: str, source: str) -> bool:
    # A one-letter "scheme" is a Windows drive (C:\models); an empty one is a path.
    return scheme in _LOCAL_SCHEMES or (len(scheme) == 1 and source[1:2] == ":")


def _local_path(uri: str) -> str:
    """The file-system path of a local source or artifact location."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _refuse(uri, "A file: URI must not name a host.")
        return unquote(parts.path)
    return uri


def _parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    """(scheme, host, decoded path segments) for comparing a source with a root."""
    parts = urlsplit(uri)
    segments = tuple(fully_decoded(s) for s in parts.path.split("/") if s)
    return parts.scheme.lower(), parts.netloc.lower(), segments


def _within(source: str, root: str) -> bool:
    scheme, host, path = _parts(source)
    root_scheme, root_host, root_path = _parts(root)
    return (scheme, host) == (root_scheme, root_host) and bool(root_path) and path[: len(root_path)] == root_path


def _is_proxy_source(scheme: str, source: str) -> bool:
    if scheme == "mlflow-artifacts":
        return True
    if scheme not in ("http", "https"):
        return False
    path = _parts(source)[2]
    n = len(PROXY_ROUTE)
    return any(path[i : i + n] == PROXY_ROUTE for i in range(len(path) - n + 1))


def _run_artifact_uri(source: str, run_id: str | None, get_run: RunLookup | None) -> str:
    """The artifact root of the run named by ``run_id``; refuses the source if there is none."""
    if not run_id or get_run is None:
        raise _refuse(source, "The run_id request parameter must identify the run whose artifacts hold the source.")
    try:
        return get_run(run_id).info.artifact_uri
    except HeadwaterError as err:
        if err.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST:
            raise _refuse(source, f"The run_id '{run_id}' does not identify a run.") from None
        raise


def _check_local(source: str, run_id: str | None, get_run: RunLookup | None) -> None:
    why = (
        "To use a local path as a model version source, the run_id request parameter has to be specified"
        " and the local path has to be contained within the artifact directory of that run."
    )
    root = _run_artifact_uri(source, run_id, get_run)
    root_scheme = urlsplit(root).scheme
    if not _is_local(root_scheme, root):
        raise _refuse(source, why)
    path = os.path.realpath(_local_path(source))
    root_path = os.path.realpath(_local_path(root))
    if os.path.commonpath([path, root_path]) != root_path:
        raise _refuse(source, why)


def check_source(
    source: str,
    run_id: str | None = None,
    model_id: str | None = None,
    get_run: RunLookup | None = None,
) -> None:
    """Refuse a model-version source that could reach files it should not (INVALID_PARAMETER_VALUE).

    ``get_run(run_id)`` returns a run (its ``info.artifact_uri`` is read); without
    it, sources that must be checked against a run are refused.
    """
    if not isinstance(source, str) or source == "":
        raise HeadwaterError.invalid("Missing value for required parameter 'source'.")
    if len(source) > MAX_SOURCE_LENGTH:
        raise HeadwaterError.invalid(f"'source' exceeds the maximum length of {MAX_SOURCE_LENGTH} characters")
    pattern = first_env(SOURCE_REGEX_ENV)
    if pattern and not re.search(pattern, source):
        raise _refuse(source, "It does not match the server's allowed source pattern.")
    decoded = fully_decoded(source)
    if _has_traversal(source) or _has_traversal(decoded):
        raise _refuse(source, "Relative path references ('..') and NUL characters are not allowed; give an absolute path.")
    scheme = urlsplit(source).scheme.lower()
    if _is_local(scheme, source):
        _check_local(source, run_id, get_run)
        return
    netloc = urlsplit(source).netloc
    if scheme == "runs":
        source_run = source[len("runs:") :].lstrip("/").split("/", 1)[0]
        if netloc or not run_id or source_run != run_id:
            raise _refuse(source, "A runs:/ source needs the run_id request parameter naming the same run.")
        return
    if scheme == "models":
        parsed = parse_model_uri(source)
        if parsed.model_id is not None and parsed.model_id != model_id:
            raise _refuse(source, "A models:/<model_id> source needs the model_id request parameter naming it.")
        if parsed.model_id is None and parsed.version is None:
            raise _refuse(source, "A registered model source must name a version number.")
        return
    if _is_proxy_source(scheme, source):
        root = _run_artifact_uri(source, run_id, get_run)
        if not _within(source, root):
            raise _refuse(source, "The source must lie under the artifact location of the run given by run_id.")
