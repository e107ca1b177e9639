"""Input rules of the model registry (spec/validation-and-limits.md §9).

Every check raises INVALID_PARAMETER_VALUE with the message MLflow's clients
know, before a store writes anything. Stores call these; so do the REST
handlers where a request can be refused without touching the database.
"""

from __future__ import annotations

import posixpath
import re

import headwater.validation as v
from headwater.exceptions import HeadwaterError

MAX_MODEL_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 5000
MAX_SOURCE_LENGTH = 4096
MAX_RUN_LINK_LENGTH = 4096

SEARCH_REGISTERED_MODELS_DEFAULT = 100
SEARCH_REGISTERED_MODELS_LIMIT = 1000
SEARCH_MODEL_VERSIONS_DEFAULT = 10_000
SEARCH_MODEL_VERSIONS_LIMIT = 200_000

#: Marks a registered model that is really a prompt; registry searches hide those.
PROMPT_TAG = "mlflow.prompt.is_prompt"

_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")


def _missing(name: str) -> HeadwaterError:
    return HeadwaterError.invalid(f"Missing value for required parameter '{name}'.")


def validate_model_name(name: object, field: str = "name") -> str:
    """A registered-model name: non-blank, no ``/`` or ``:``, no path tricks, at most 256 characters."""
    if not isinstance(name, str) or name.strip() == "":
        raise _missing(field)
    if "/" in name or ":" in name:
        raise HeadwaterError.invalid(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    norm = posixpath.normpath(name)
    if norm != name or norm == "." or norm.startswith(".."):
        raise HeadwaterError.invalid(
            f"Invalid value '{name}' for parameter '{field}' supplied: Names may be treated as files in"
            f" certain cases, and must not resolve to other names when treated as such. This name would"
            f" resolve to '{norm}'"
        )
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise HeadwaterError.invalid(f"'{field}' exceeds the maximum length of {MAX_MODEL_NAME_LENGTH} characters")
    return name


def parse_version(version: object) -> int:
    """A version number given as an int or a string of digits."""
    if isinstance(version, bool):
        raise HeadwaterError.invalid(f"Parameter 'version' must be an integer, got '{version}'.")
    if isinstance(version, int):
        return version
    text = str(version).strip() if version is not None else ""
    if text == "":
        raise _missing("version")
    try:
        return int(text)
    except ValueError:
        raise HeadwaterError.invalid(f"Parameter 'version' must be an integer, got '{version}'.") from None


def validate_tag(key: object, value: object) -> str:
    """A registered-model or model-version tag; returns the value as a string."""
    if not isinstance(key, str) or key == "":
        raise _missing("key")
    v.validate_key(key, "Tag key", MAX_TAG_KEY_LENGTH)
    if value is None:
        raise HeadwaterError.invalid("Tag value cannot be None")
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise HeadwaterError.invalid(f"'value' exceeds the maximum length of {MAX_TAG_VALUE_LENGTH} characters")
    return text


def validate_alias(alias: object) -> str:
    """An alias to set: word characters and ``-``, at most 255, not ``latest`` nor ``v<N>``."""
    if not isinstance(alias, str) or alias == "":
        raise HeadwaterError.invalid("Registered model alias name cannot be empty.")
    if not _ALIAS_RE.match(alias):
        raise HeadwaterError.invalid(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_),"
            " and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise HeadwaterError.invalid(
            f"'Registered model alias name' exceeds the maximum length of {MAX_ALIAS_LENGTH} characters"
        )
    if alias.lower() == "latest":
        raise HeadwaterError.invalid("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS_RE.match(alias):
        raise HeadwaterError.invalid(f"Version alias name '{alias}' is reserved.")
    return alias


def validate_text(value: str | None, field: str, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise HeadwaterError.invalid(f"'{field}' exceeds the maximum length of {limit} characters")
    return value


def validate_max_results(max_results: int | None, default: int, limit: int) -> int:
    return v.validate_max_results(max_results, default, limit, "max_results")
