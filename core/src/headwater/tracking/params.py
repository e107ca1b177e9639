"""Project parameters read by :func:`headwater.param` (the R API's ``mlflow_param``)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

from headwater.exceptions import HeadwaterError

_TYPES = {
    "numeric": "numeric",
    "float": "numeric",
    "double": "numeric",
    "integer": "integer",
    "int": "integer",
    "string": "string",
    "str": "string",
    "boolean": "boolean",
    "bool": "boolean",
}
_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


def infer_type(default: Any) -> str | None:
    """The parameter type a default value implies (None for no default)."""
    if default is None:
        return None
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "numeric"
    return "string"


def lookup(name: str, argv: list[str] | None = None) -> str | None:
    """The raw value of ``--name`` in the script's arguments, else of the environment variable."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument(f"--{name}", dest="value", default=None)
    try:
        found, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    except (argparse.ArgumentError, SystemExit):  # "--name" given without a value
        found = None
    if found is not None and found.value is not None:
        return found.value
    for prefix in ("HEADWATER_PARAM_", "MLFLOW_PARAM_"):
        for key in (prefix + name, prefix + name.upper()):
            if key in os.environ:
                return os.environ[key]
    return None


def convert(name: str, value: Any, type_name: str) -> Any:
    """``value`` as ``type_name``; a value that does not fit is INVALID_PARAMETER_VALUE."""
    kind = _TYPES.get(str(type_name).lower())
    if kind is None:
        raise HeadwaterError.invalid(
            f"Parameter {name!r}: unknown type {type_name!r}; use one of {', '.join(sorted(_TYPES))}."
        )
    try:
        if kind == "string":
            return str(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise ValueError(value)
        number = float(value)
        if kind == "numeric":
            return number
        if not math.isfinite(number) or number != int(number):
            raise ValueError(value)
        return int(number)
    except (TypeError, ValueError):
        raise HeadwaterError.invalid(f"Parameter {name!r}: cannot read {value!r} as {kind}.") from None
