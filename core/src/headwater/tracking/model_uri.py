"""``models:/`` URIs: which registered model version they name, and where its files are.

Forms (as MLflow's clients write them):

- ``models:/<name>/<version>``: that version;
- ``models:/<name>/<stage>``: the highest version in the stage (any case);
- ``models:/<name>/latest``: the highest version of the model;
- ``models:/<name>@<alias>``: the version the alias points at;
- ``models:/<model_id>``: a logged model (``m-`` + 32 hex digits).

A URI with a host (``models://profile/...``, another registry) is refused: a
URI always resolves against the registry it is given to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from headwater.entities import ModelVersion, ModelVersionStage
from headwater.exceptions import HeadwaterError

if TYPE_CHECKING:
    from headwater.store.registry import RegistryStore

SCHEME = "models"
_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class ModelUri:
    """A parsed ``models:/`` URI; exactly one of version, stage, alias, latest or model_id is set."""

    uri: str
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False
    model_id: str | None = None


def is_model_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri[: len(SCHEME) + 1].lower() == f"{SCHEME}:"


def _bad(uri: str, why: str) -> HeadwaterError:
    return HeadwaterError.invalid(
        f"Not a valid models URI: '{uri}'. {why} Use models:/<name>/<version>, models:/<name>/<stage>,"
        " models:/<name>/latest or models:/<name>@<alias>."
    )


def parse_model_uri(uri: str) -> ModelUri:
    """Split a ``models:/`` URI into what it names; INVALID_PARAMETER_VALUE if it is malformed."""
    if not is_model_uri(uri):
        raise _bad(uri, "It must start with 'models:/'.")
    parts = urlsplit(uri)
    if parts.netloc:
        raise _bad(uri, "A registry host is not allowed; the URI resolves against this registry.")
    if parts.query or parts.fragment:
        raise _bad(uri, "Queries and fragments are not allowed.")
    path = parts.path
    if not path.startswith("/"):
        raise _bad(uri, "The path must be absolute.")
    segments = path.strip("/").split("/")
    if len(segments) == 1 and segments[0]:
        (only,) = segments
        if "@" in only:
            name, _, alias = only.rpartition("@")
            if name and alias:
                return ModelUri(uri, name=name, alias=alias)
            raise _bad(uri, "Both a name and an alias are needed around '@'.")
        if _LOGGED_MODEL_ID.match(only):
            return ModelUri(uri, model_id=only)
        raise _bad(uri, "A version, stage or alias is missing.")
    if len(segments) != 2 or not all(segments):
        raise _bad(uri, "Expected a name and one of version, stage or 'latest'.")
    name, selector = segments
    if selector.isdigit():
        return ModelUri(uri, name=name, version=str(int(selector)))
    if selector.lower() == "latest":
        return ModelUri(uri, name=name, latest=True)
    return ModelUri(uri, name=name, stage=ModelVersionStage.parse(selector).value)


def resolve_model_version(registry: "RegistryStore", uri: str | ModelUri) -> ModelVersion:
    """The registered version a ``models:/`` URI names (logged-model URIs name none)."""
    parsed = parse_model_uri(uri) if isinstance(uri, str) else uri
    if parsed.model_id is not None or parsed.name is None:
        raise HeadwaterError.invalid(
            f"'{parsed.uri}' names a logged model, not a registered model version."
        )
    if parsed.version is not None:
        return registry.get_model_version(parsed.name, parsed.version)
    if parsed.alias is not None:
        return registry.get_model_version_by_alias(parsed.name, parsed.alias)
    stages = [parsed.stage] if parsed.stage is not None else None
    found = registry.get_latest_versions(parsed.name, stages)
    if not found:
        where = f" and stage '{parsed.stage}'" if parsed.stage else ""
        raise HeadwaterError.not_found(f"No versions of model with name '{parsed.name}'{where} found")
    return max(found, key=lambda mv: int(mv.version))


def model_download_uri(registry: "RegistryStore", uri: str) -> str:
    """Where the files of the version ``uri`` names are stored."""
    version = resolve_model_version(registry, uri)
    return registry.get_model_version_download_uri(version.name, version.version)
