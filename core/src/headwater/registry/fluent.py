"""Module-level model-registry functions: ``headwater.register_model(...)``, ``headwater.get_model_version(...)``, ...

Each calls the same-named method of the process's current
:class:`~headwater.Client` (see :mod:`headwater.tracking.fluent`), whose
registry is the one of :func:`get_registry_uri`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from headwater.entities import ModelVersion, PagedList, RegisteredModel
from headwater.registry import validation as rv
from headwater.registry.client import AWAIT_REGISTRATION_SECONDS
from headwater.registry.uri import get_registry_uri, set_registry_uri

__all__ = [
    "create_model_version",
    "create_registered_model",
    "delete_model_version",
    "delete_model_version_tag",
    "delete_registered_model",
    "delete_registered_model_alias",
    "delete_registered_model_tag",
    "get_latest_versions",
    "get_model_version",
    "get_model_version_by_alias",
    "get_model_version_download_uri",
    "get_registered_model",
    "get_registry_uri",
    "list_registered_models",
    "register_model",
    "rename_registered_model",
    "search_model_versions",
    "search_registered_models",
    "set_model_version_tag",
    "set_registered_model_alias",
    "set_registered_model_tag",
    "set_registry_uri",
    "transition_model_version_stage",
    "update_model_version",
    "update_registered_model",
]


def _client() -> Any:
    from headwater.tracking.fluent import _client as current

    return current()


def register_model(
    model_uri: str,
    name: str,
    tags: Mapping[str, Any] | None = None,
    await_registration_for: int = AWAIT_REGISTRATION_SECONDS,
) -> ModelVersion:
    """Register ``model_uri`` (``runs:/``, ``models:/`` or a storage URI) as a new version of ``name``."""
    return _client().register_model(model_uri, name, tags, await_registration_for)


def create_registered_model(
    name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
) -> RegisteredModel:
    return _client().create_registered_model(name, tags, description)


def get_registered_model(name: str) -> RegisteredModel:
    return _client().get_registered_model(name)


def rename_registered_model(name: str, new_name: str) -> RegisteredModel:
    return _client().rename_registered_model(name, new_name)


def update_registered_model(name: str, description: str | None = None) -> RegisteredModel:
    return _client().update_registered_model(name, description)


def delete_registered_model(name: str) -> None:
    _client().delete_registered_model(name)


def search_registered_models(
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Matching registered models, every page collected (up to ``max_results`` if given)."""
    client = _client()
    return _collect(
        lambda size, token: client.search_registered_models(filter_string, size, order_by, token),
        max_results,
        rv.SEARCH_REGISTERED_MODELS_LIMIT,
    )


def list_registered_models(
    max_results: int = rv.SEARCH_REGISTERED_MODELS_DEFAULT, page_token: str | None = None
) -> PagedList[RegisteredModel]:
    """One page of registered models (the R API's ``mlflow_list_registered_models``)."""
    return _client().list_registered_models(max_results, page_token)


def get_latest_versions(name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
    return _client().get_latest_versions(name, stages)


def set_registered_model_tag(name: str, key: str, value: Any) -> None:
    _client().set_registered_model_tag(name, key, value)


def delete_registered_model_tag(name: str, key: str) -> None:
    _client().delete_registered_model_tag(name, key)


def create_model_version(
    name: str,
    source: str,
    run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    run_link: str | None = None,
    description: str | None = None,
    model_id: str | None = None,
) -> ModelVersion:
    return _client().create_model_version(name, source, run_id, tags, run_link, description, model_id)


def get_model_version(name: str, version: str | int) -> ModelVersion:
    return _client().get_model_version(name, version)


def update_model_version(name: str, version: str | int, description: str | None = None) -> ModelVersion:
    return _client().update_model_version(name, version, description)


def delete_model_version(name: str, version: str | int) -> None:
    _client().delete_model_version(name, version)


def transition_model_version_stage(
    name: str, version: str | int, stage: str, archive_existing_versions: bool = False
) -> ModelVersion:
    return _client().transition_model_version_stage(name, version, stage, archive_existing_versions)


def search_model_versions(
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Matching model versions, every page collected (up to ``max_results`` if given)."""
    client = _client()
    return _collect(
        lambda size, token: client.search_model_versions(filter_string, size, order_by, token),
        max_results,
        rv.SEARCH_MODEL_VERSIONS_DEFAULT,
    )


def get_model_version_download_uri(name: str, version: str | int) -> str:
    return _client().get_model_version_download_uri(name, version)


def set_model_version_tag(name: str, version: str | int, key: str, value: Any) -> None:
    _client().set_model_version_tag(name, version, key, value)


def delete_model_version_tag(name: str, version: str | int, key: str) -> None:
    _client().delete_model_version_tag(name, version, key)


def set_registered_model_alias(name: str, alias: str, version: str | int) -> None:
    _client().set_registered_model_alias(name, alias, version)


def delete_registered_model_alias(name: str, alias: str) -> None:
    _client().delete_registered_model_alias(name, alias)


def get_model_version_by_alias(name: str, alias: str) -> ModelVersion:
    return _client().get_model_version_by_alias(name, alias)


def _collect(search: Any, max_results: int | None, page_size: int) -> list:
    out: list = []
    token = None
    while max_results is None or len(out) < max_results:
        size = page_size if max_results is None else min(page_size, max_results - len(out))
        page = search(size, token)
        out.extend(page.items)
        token = page.token
        if not token:
            break
    return out

