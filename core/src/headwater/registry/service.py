"""The registry service: a registry store plus the events its mutations raise.

Every caller that changes the registry (the Python client, the server's
handlers) goes through a :class:`RegistryService`, so observers see the same
events whichever door a change came in by. Events are published after the
store returned (after it committed), or, with a store that has an event
outbox, written in the change's own transaction (:mod:`headwater.events.outbox`);
a refused call raises none. Reads pass straight through.

Creating a version also settles its source: a ``models:/<name>/<stage|alias|
latest>`` source is pinned to the version number it names (taking that
version's run), and, with ``check_sources`` (always on in the server), the
source must pass :func:`headwater.registry.sources.check_source` against the
tracking store.
"""

from __future__ import annotations

from typing import Any

from headwater.entities import ModelVersion, ModelVersionStage, RegisteredModel
from headwater.events import EventBus, get_event_bus
from headwater.events import catalogue as ev
from headwater.events.outbox import Announcer
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry import validation as rv
from headwater.registry.sources import check_source
from headwater.store.registry import RegistryStore, Tags
from headwater.tracking.model_uri import is_model_uri, parse_model_uri, resolve_model_version


def tag_dict(tags: Any) -> dict[str, str]:
    """Tags given as a mapping, (key, value) pairs or objects with key/value, as a dict."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return {str(k): v if isinstance(v, str) else str(v) for k, v in tags.items()}
    out = {}
    for item in tags:
        key, value = (item.key, item.value) if hasattr(item, "key") else item
        out[str(key)] = value if isinstance(value, str) else str(value)
    return out


def _v(version: str | int) -> str:
    return str(rv.parse_version(version))


class RegistryService:
    """Wraps a :class:`RegistryStore`; mutations announce events on ``bus``.

    ``tracking`` (a tracking store or service) answers the run lookups of
    source checks; ``check_sources`` turns those checks on.
    """

    def __init__(
        self,
        store: RegistryStore,
        tracking: Any = None,
        bus: EventBus | None = None,
        check_sources: bool = True,
    ):
        self.store = store
        self.tracking = tracking
        self.bus = bus or get_event_bus()
        self.check_sources = check_sources
        self._announce = Announcer(store, self.bus)

    def __getattr__(self, name: str) -> Any:
        # Reads (get_*, search_*) and store extras need no events.
        return getattr(self.store, name)

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(self, name: str, tags: Tags = None, description: str | None = None) -> RegisteredModel:
        with self._announce("create_registered_model") as emit:
            model = self.store.create_registered_model(name, tags, description)
            emit(ev.RegisteredModelCreated, name=model.name,
                 description=model.description, tags=model.tags)
        return model

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        with self._announce("rename_registered_model") as emit:
            model = self.store.rename_registered_model(name, new_name)
            emit(ev.RegisteredModelRenamed, name=name, new_name=new_name)
        return model

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        with self._announce("update_registered_model") as emit:
            model = self.store.update_registered_model(name, description)
            emit(ev.RegisteredModelUpdated, name=name, description=description)
        return model

    def delete_registered_model(self, name: str) -> None:
        with self._announce("delete_registered_model") as emit:
            self.store.delete_registered_model(name)
            emit(ev.RegisteredModelRef, name=name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        text = value if isinstance(value, str) else str(value)
        with self._announce("set_registered_model_tag") as emit:
            self.store.set_registered_model_tag(name, key, text)
            emit(ev.RegisteredModelTagSet, name=name, key=key, value=text)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self._announce("delete_registered_model_tag") as emit:
            self.store.delete_registered_model_tag(name, key)
            emit(ev.RegisteredModelTagDeleted, name=name, key=key)

    # -- model versions ---------------------------------------------------------------------
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
        if not isinstance(source, str) or source == "":
            raise HeadwaterError.invalid("Missing value for required parameter 'source'.")
        source, run_id, model_id = self._pin_registered_source(source, run_id or None, model_id or None)
        if self.check_sources:
            check_source(source, run_id, model_id, self._get_run)
        with self._announce("create_model_version") as emit:
            version = self.store.create_model_version(name, source, run_id, tags, run_link, description, model_id)
            emit(ev.ModelVersionCreated, name=version.name, version=version.version,
                 source=source, run_id=run_id, model_id=model_id, description=description, tags=version.tags)
        return version

    def _get_run(self, run_id: str) -> Any:
        if self.tracking is None:
            raise HeadwaterError.invalid("No tracking store to look the source's run up in.")
        return self.tracking.get_run(run_id)

    def _pin_registered_source(
        self, source: str, run_id: str | None, model_id: str | None
    ) -> tuple[str, str | None, str | None]:
        """``models:/<name>/<stage|alias|latest|N>`` -> ``models:/<name>/<N>``, with that version's lineage."""
        if not is_model_uri(source):
            return source, run_id, model_id
        parsed = parse_model_uri(source)
        if parsed.name is None:  # a logged model: models:/<model_id>
            return source, run_id, model_id
        target = self.store.get_registered_model(parsed.name)
        if target.tags.get(rv.PROMPT_TAG, "").lower() == "true":
            raise HeadwaterError.invalid(
                f"Invalid model version source: '{source}'. Prompt versions cannot be used as model version sources."
            )
        pinned = resolve_model_version(self.store, parsed)
        if (run_id is not None and run_id != (pinned.run_id or None)) or (
            model_id is not None and model_id != (pinned.model_id or None)
        ):
            raise HeadwaterError.invalid(
                f"Invalid model version source: '{source}'. The run_id and model_id request parameters must"
                " match the referenced model version."
            )
        return (
            f"models:/{pinned.name}/{pinned.version}",
            run_id if run_id is not None else pinned.run_id,
            model_id if model_id is not None else pinned.model_id,
        )

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are; a logged-model source (``models:/<model_id>``) is looked up."""
        uri = self.store.get_model_version_download_uri(name, version)
        if self.tracking is None or not is_model_uri(uri):
            return uri
        model_id = parse_model_uri(uri).model_id
        get_logged_model = getattr(self.tracking, "get_logged_model", None)
        if model_id is None or get_logged_model is None:
            return uri
        try:
            return get_logged_model(model_id).artifact_uri
        except HeadwaterError as err:
            if err.error_code in (ErrorCode.NOT_IMPLEMENTED, ErrorCode.RESOURCE_DOES_NOT_EXIST):
                return uri
            raise

    def update_model_version(self, name: str, version: str | int, description: str | None) -> ModelVersion:
        with self._announce("update_model_version") as emit:
            updated = self.store.update_model_version(name, version, description)
            emit(ev.ModelVersionUpdated, name=name, version=updated.version,
                 description=description)
        return updated

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: ModelVersionStage | str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        with self._announce("transition_model_version_stage") as emit:
            updated = self.store.transition_model_version_stage(name, version, stage, archive_existing_versions)
            emit(ev.ModelVersionStageTransitioned, name=name,
                 version=updated.version, stage=updated.current_stage,
                 archive_existing_versions=bool(archive_existing_versions))
        return updated

    def delete_model_version(self, name: str, version: str | int) -> None:
        with self._announce("delete_model_version") as emit:
            self.store.delete_model_version(name, version)
            emit(ev.ModelVersionRef, name=name, version=_v(version))

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        text = value if isinstance(value, str) else str(value)
        with self._announce("set_model_version_tag") as emit:
            self.store.set_model_version_tag(name, version, key, text)
            emit(ev.ModelVersionTagSet, name=name, version=_v(version), key=key,
                 value=text)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        with self._announce("delete_model_version_tag") as emit:
            self.store.delete_model_version_tag(name, version, key)
            emit(ev.ModelVersionTagDeleted, name=name, version=_v(version), key=key)

    # -- aliases ------------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        with self._announce("set_registered_model_alias") as emit:
            self.store.set_registered_model_alias(name, alias, version)
            emit(ev.RegisteredModelAliasSet, name=name, alias=alias,
                 version=_v(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        with self._announce("delete_registered_model_alias") as emit:
            self.store.delete_registered_model_alias(name, alias)
            emit(ev.RegisteredModelAliasDeleted, name=name, alias=alias)
