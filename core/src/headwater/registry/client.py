"""The model-registry half of :class:`headwater.Client`.

Method names and arguments follow MLflow's ``MlflowClient`` (plus the R API's
``list_registered_models``). Every call goes to the registry store of the
client's registry URI (see :mod:`headwater.registry.uri`; by default the
tracking URI) through a :class:`~headwater.registry.service.RegistryService`,
so observers see every change.
"""

from __future__ import annotations

import os
import posixpath
import time
from typing import Any, Mapping, Sequence

from headwater.entities import ModelVersion, ModelVersionStatus, PagedList, RegisteredModel
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry import validation as rv
from headwater.registry.service import RegistryService, tag_dict
from headwater.registry.uri import resolve_registry_uri

#: How long ``register_model`` waits for a version to become READY, by default (seconds).
AWAIT_REGISTRATION_SECONDS = 300
_POLL_SECONDS = 1.0


class RegistryClientMixin:
    """Registered models, versions, stages, tags and aliases on an explicit client."""

    tracking_uri: str
    plugin_manager: Any
    service: Any
    registry_uri: str | None = None

    @property
    def registry(self) -> RegistryService:
        """The registry service for this client's registry URI (built on first use, then reused)."""
        uri = resolve_registry_uri(self.registry_uri, self.tracking_uri)
        services: dict[str, RegistryService] = self.__dict__.setdefault("_registries", {})
        service = services.get(uri)
        if service is None:
            store = self.plugin_manager.registry_store(uri)
            # The client trusts its own user with local sources; a server checks them for its clients.
            service = services[uri] = RegistryService(store, tracking=self.service, check_sources=False)
        return service

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        return self.registry.create_registered_model(name, tag_dict(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.registry.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        return self.registry.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self.registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = rv.SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self.registry.search_registered_models(filter_string or None, max_results, order_by, page_token)

    def list_registered_models(
        self, max_results: int = rv.SEARCH_REGISTERED_MODELS_DEFAULT, page_token: str | None = None
    ) -> PagedList[RegisteredModel]:
        """One page of registered models by name (the R API's ``mlflow_list_registered_models``)."""
        return self.search_registered_models(None, max_results, None, page_token)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        return self.registry.get_latest_versions(name, list(stages) if stages else None)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.registry.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.registry.delete_registered_model_tag(name, key)

    # -- model versions ----------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        await_creation_for: int = AWAIT_REGISTRATION_SECONDS,
    ) -> ModelVersion:
        """Add a version from ``source`` and wait (up to ``await_creation_for`` seconds) until it is READY."""
        version = self.registry.create_model_version(
            name, os.fspath(source), run_id, tag_dict(tags), run_link, description, model_id
        )
        return self._await_ready(version, await_creation_for)

    def _await_ready(self, version: ModelVersion, timeout: float) -> ModelVersion:
        deadline = time.monotonic() + max(timeout or 0, 0)
        while version.status == ModelVersionStatus.PENDING_REGISTRATION.value and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
            version = self.get_model_version(version.name, version.version)
        if version.status == ModelVersionStatus.FAILED_REGISTRATION.value:
            raise HeadwaterError(
                f"Model version creation failed for model name: {version.name} version: {version.version}"
                f" with status: {version.status} and message: {version.status_message}",
                ErrorCode.INVALID_STATE,
            )
        return version

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self.registry.get_model_version(name, version)

    def update_model_version(self, name: str, version: str | int, description: str | None = None) -> ModelVersion:
        return self.registry.update_model_version(name, version, description)

    def delete_model_version(self, name: str, version: str | int) -> None:
        self.registry.delete_model_version(name, version)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self.registry.transition_model_version_stage(name, version, stage, archive_existing_versions)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = rv.SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self.registry.search_model_versions(filter_string or None, max_results, order_by, page_token)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self.registry.get_model_version_download_uri(name, version)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        self.registry.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self.registry.delete_model_version_tag(name, version, key)

    # -- aliases -------------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self.registry.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.registry.get_model_version_by_alias(name, alias)

    # -- registering what a run logged -----------------------------------------------------------
    def register_model(
        self,
        model_uri: str,
        name: str,
        tags: Mapping[str, Any] | None = None,
        await_registration_for: int = AWAIT_REGISTRATION_SECONDS,
    ) -> ModelVersion:
        """Register the model at ``model_uri`` as a new version of ``name`` (created if missing).

        ``runs:/<run_id>/<path>`` registers the run's artifacts at ``<path>`` when
        they hold an MLmodel file, else the run's logged model called ``<path>``;
        ``models:/...`` and any other URI are registered as given. Returns once
        the version is READY.
        """
        try:
            self.create_registered_model(name)
        except HeadwaterError as err:
            if err.error_code not in (ErrorCode.RESOURCE_ALREADY_EXISTS, ErrorCode.ALREADY_EXISTS):
                raise
        source, run_id, model_id = self._registration_source(os.fspath(model_uri))
        version = self.registry.create_model_version(name, source, run_id, tag_dict(tags), None, None, model_id)
        return self._await_ready(version, await_registration_for)

    def _registration_source(self, model_uri: str) -> tuple[str, str | None, str | None]:
        """(source, run_id, model_id) to register for ``model_uri``."""
        from headwater.models.uri import parse_runs_uri
        from headwater.tracking.model_uri import is_model_uri, parse_model_uri

        if is_model_uri(model_uri):
            model_id = parse_model_uri(model_uri).model_id
            run_id = self._logged_model_run(model_id) if model_id else None
            return model_uri, run_id, model_id
        if not model_uri.startswith("runs:"):
            return model_uri, None, None
        run_id, path = parse_runs_uri(model_uri)
        artifact_uri = self.service.get_run(run_id).info.artifact_uri
        listed = {posixpath.basename(f.path) for f in self.list_artifacts(run_id, path or None)}  # type: ignore[attr-defined]
        if "MLmodel" in listed or not path:
            return posixpath.join(artifact_uri, path) if path else artifact_uri, run_id, None
        logged = self._logged_model_named(run_id, path.split("/", 1)[0])
        if logged is None:
            raise HeadwaterError(
                f"Unable to find a logged_model with artifact_path {path} under run {run_id}", ErrorCode.NOT_FOUND
            )
        return f"models:/{logged.model_id}", run_id, logged.model_id

    def _logged_model_run(self, model_id: str) -> str | None:
        get = getattr(self.service, "get_logged_model", None)
        try:
            return get(model_id).source_run_id if get is not None else None
        except HeadwaterError as err:
            if err.error_code == ErrorCode.NOT_IMPLEMENTED:
                return None
            raise

    def _logged_model_named(self, run_id: str, name: str) -> Any | None:
        from headwater.models.uri import _logged_model_of_run

        return _logged_model_of_run(self, run_id, name)

    # -- files ---------------------------------------------------------------------------------
    def download_artifacts_from_uri(self, artifact_uri: str, dst_path: str | None = None) -> str:
        """Download what any URI names (``models:/``, ``runs:/``, storage URIs) to a local path."""
        from headwater.models.uri import resolve_to_storage

        storage, sub_path = resolve_to_storage(os.fspath(artifact_uri), self)
        return self.repository_for_uri(storage).download_artifacts(sub_path, dst_path)  # type: ignore[attr-defined]
