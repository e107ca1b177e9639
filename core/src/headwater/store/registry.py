"""The model-registry store interface every registry-store plugin implements.

A registry store owns registered models, their versions, stages, tags and
aliases. Like a tracking store it validates its input (with
:mod:`headwater.registry.validation`), raises
:class:`~headwater.exceptions.HeadwaterError` with MLflow's error codes, writes
nothing when it refuses a call, and sends no events: the core wraps it in a
:class:`~headwater.registry.service.RegistryService`, which announces each
mutation and checks model-version sources against the tracking store.

Plugin authors check a store against this contract with
:class:`headwater.testing.RegistryStoreConformance`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Mapping, Sequence

from headwater.entities import ModelVersion, ModelVersionStage, PagedList, RegisteredModel

Tags = Mapping[str, str] | Sequence[tuple[str, str]] | None


class RegistryStore(ABC):
    """Abstract registry store. Versions are numbers (``int`` or digit strings) in, strings out."""

    # -- registered models -------------------------------------------------------------
    @abstractmethod
    def create_registered_model(
        self, name: str, tags: Tags = None, description: str | None = None
    ) -> RegisteredModel:
        """Create a registered model; RESOURCE_ALREADY_EXISTS if the name is taken."""

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version per stage; RESOURCE_DOES_NOT_EXIST if unknown."""

    @abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename the model and its versions; RESOURCE_ALREADY_EXISTS if ``new_name`` is taken."""

    @abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Replace the description."""

    @abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete the model with every version, tag and alias, in one transaction."""

    @abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching search-grammar.md §4 (default 100 per page, at most 1000); prompts hidden."""

    @abstractmethod
    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when empty)."""

    @abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Insert or replace a tag of the model."""

    @abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag; a missing tag is not an error (the model must exist)."""

    # -- model versions ------------------------------------------------------------------
    @abstractmethod
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Tags = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Add version max(existing, deleted included) + 1, READY, in stage ``None``.

        Concurrent calls for one model get distinct consecutive numbers. A
        ``models:/<name>/<N>`` source is stored as given and downloads from that
        version's location. Unknown model: RESOURCE_DOES_NOT_EXIST.
        """

    @abstractmethod
    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """The version; deleted or unknown: RESOURCE_DOES_NOT_EXIST."""

    @abstractmethod
    def update_model_version(self, name: str, version: str | int, description: str | None) -> ModelVersion:
        """Replace the version's description."""

    @abstractmethod
    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: ModelVersionStage | str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move the version to ``stage``; optionally archive the others in that stage.

        Archiving is allowed only into Staging or Production (INTERNAL_ERROR otherwise).
        """

    @abstractmethod
    def delete_model_version(self, name: str, version: str | int) -> None:
        """Soft-delete: the number is never reused; its aliases go; get and search no longer see it."""

    @abstractmethod
    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are stored."""

    @abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching search-grammar.md §5; deleted versions and prompts never appear."""

    @abstractmethod
    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        """Insert or replace a tag of the version."""

    @abstractmethod
    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        """Remove a tag; a missing tag is not an error (the version must exist)."""

    # -- aliases -----------------------------------------------------------------------------
    @abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at an existing version (replacing where it pointed before)."""

    @abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias; a missing alias is not an error (the model must exist)."""

    @abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at; ``latest`` (any case) is the highest version.

        An unknown alias is INVALID_PARAMETER_VALUE, as MLflow answers.
        """

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
