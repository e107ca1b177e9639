"""Typing, validating and resolving the parameters of one entry point.

Everything here runs before a run is created, so a bad value is an error that
names the parameter, and nothing has started. Values stay text: a ``float``
parameter must parse as a number but reaches the command exactly as given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlparse

from headwater.projects.spec import EntryPoint, Parameter, ProjectError


@dataclass(frozen=True)
class ResolvedParameters:
    """``declared``: final values for the command; ``extra``: undeclared ``-P`` keys; ``logged``: as given."""

    declared: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    logged: dict[str, str] = field(default_factory=dict)


def parse_param_list(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["k=v", ...]`` from the command line as a dict; the value may itself contain ``=``."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ProjectError(f"Invalid parameter {item!r}: expected NAME=VALUE.")
        params[key] = value
    return params


def _local_path(value: str) -> str | None:
    """The local path ``value`` names (a plain path or a ``file:`` URI), or None for a remote URI."""
    parsed = urlparse(value)
    if parsed.scheme == "file":
        return parsed.path
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # plain path (or a Windows drive letter)
        return value
    return None


def _check_number(param: Parameter, value: str) -> None:
    try:
        float(value) if param.type == "float" else int(value)
    except ValueError:
        kind = "a number" if param.type == "float" else "an integer"
        raise ProjectError(
            f"Parameter {param.name!r} is of type {param.type} and {value!r} is not {kind}."
        ) from None


def _resolve_one(
    param: Parameter,
    value: str,
    base_dir: Path,
    download: Callable[[str, int], str],
    index: int,
) -> str:
    if param.type in ("float", "int"):
        _check_number(param, value)
    elif param.type == "uri":
        scheme = urlparse(value).scheme
        if len(scheme) < 2:
            raise ProjectError(f"Parameter {param.name!r} is of type uri and {value!r} has no URI scheme.")
    elif param.type == "path":
        local = _local_path(value)
        if local is None:
            return download(value, index)
        path = (base_dir / os.path.expanduser(local)).resolve()
        if not path.exists():
            raise ProjectError(f"Parameter {param.name!r} is of type path and {path} does not exist.")
        return str(path)
    return value


def resolve_parameters(
    entry: EntryPoint,
    given: Mapping[str, object],
    *,
    project_dir: Path,
    download: Callable[[str, int], str],
    cwd: Path | None = None,
) -> ResolvedParameters:
    """Check and resolve ``given`` against ``entry``'s declared parameters.

    A relative ``path`` given by the caller is relative to ``cwd``; a relative
    default comes from the MLproject, so it is relative to the project.
    Remote ``path`` values go to ``download(uri, index)``, which returns the
    local path it saved them to (``<storage-dir>/param_<index>``).
    """
    given = {str(k): str(v) for k, v in given.items()}
    cwd = cwd or Path.cwd()
    missing = [
        name for name, p in entry.parameters.items() if name not in given and p.default is None
    ]
    if missing:
        raise ProjectError(
            f"No value given for missing parameters of entry point {entry.name!r}: "
            + ", ".join(repr(m) for m in missing)
        )
    declared: dict[str, str] = {}
    logged: dict[str, str] = {}
    for index, (name, param) in enumerate(entry.parameters.items()):
        from_caller = name in given
        raw = given[name] if from_caller else param.default
        assert raw is not None
        declared[name] = _resolve_one(
            param,
            raw,
            cwd if from_caller else project_dir,
            download,
            index,
        )
        logged[name] = raw
    extra = {k: v for k, v in given.items() if k not in entry.parameters}
    logged.update(extra)
    return ResolvedParameters(declared=declared, extra=extra, logged=logged)
