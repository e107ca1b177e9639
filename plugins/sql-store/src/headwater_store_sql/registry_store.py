"""The SQL model registry: :class:`~headwater.store.RegistryStore` on SQLAlchemy Core.

It lives in the same database as the tracking store by default (the same
migrations create both). Each mutation is one short transaction; reads load a
page of models or versions and then their tags, aliases and latest versions
in a few bulk queries.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from headwater.entities import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    PagedList,
    RegisteredModel,
)
from headwater.entities.registry import ARCHIVABLE_FROM
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry import validation as rv
from headwater.store.paging import decode_page_token, encode_page_token
from headwater.store.registry import RegistryStore, Tags
from headwater.tracking.model_uri import is_model_uri, parse_model_uri, resolve_model_version
from headwater_store_sql import dialects, registry_searching
from headwater_store_sql.engine import create_engine, write_engine
from headwater_store_sql.entities import constructor
from headwater_store_sql.migrate import ensure_schema
from headwater_store_sql.registry_schema import (
    STAGE_DELETED,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from headwater_store_sql.store import _retry_conflicts

REDACTED_SOURCE = "REDACTED-SOURCE-PATH"
REDACTED_RUN_ID = "REDACTED-RUN-ID"
REDACTED_RUN_LINK = "REDACTED-RUN-LINK"
_IN_CHUNK = 500

rm, mv = registered_models, model_versions
new_model_version = constructor(ModelVersion)
new_registered_model = constructor(RegisteredModel)


def now_ms() -> int:
    return int(time.time() * 1000)


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _tag_items(tags: Tags) -> dict[str, str]:
    """Validated tags as a dict (the last value of a repeated key wins)."""
    if not tags:
        return {}
    pairs = tags.items() if hasattr(tags, "items") else [(t.key, t.value) if hasattr(t, "key") else t for t in tags]
    return {key: rv.validate_tag(key, value) for key, value in pairs}


def _model_not_found(name: str) -> HeadwaterError:
    return HeadwaterError.not_found(f"Registered Model with name={name} not found")


def _version_not_found(name: str, version: int) -> HeadwaterError:
    return HeadwaterError.not_found(f"Model Version (name={name}, version={version}) not found")


class SqlRegistryStore(RegistryStore):
    """Model registry on SQLite, PostgreSQL (psycopg 3) or MySQL/MariaDB (PyMySQL)."""

    def __init__(self, store_uri: str, **engine_options: Any):
        self.store_uri = store_uri
        self.engine = create_engine(store_uri, **engine_options)
        self._writer = write_engine(self.engine)
        self.dialect = self.engine.dialect.name
        ensure_schema(self.engine)
        self._upsert_model_tag = dialects.upsert(self.dialect, registered_model_tags, ("value",))
        self._upsert_version_tag = dialects.upsert(self.dialect, model_version_tags, ("value",))
        self._upsert_alias = dialects.upsert(self.dialect, registered_model_aliases, ("version",))

    def close(self) -> None:
        self.engine.dispose()

    def enable_event_outbox(self, wanted=None):
        """Write events in the transactions of the changes they announce (the server's outbox)."""
        from headwater_store_sql.outbox import enable_outbox

        return enable_outbox(self, wanted)

    def __repr__(self) -> str:
        return f"SqlRegistryStore({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- rows ------------------------------------------------------------------------------
    @staticmethod
    def _model_row(conn: Connection, name: str) -> Any:
        rv.validate_model_name(name)
        row = conn.execute(sa.select(rm).where(rm.c.name == name)).first()
        if row is None:
            raise _model_not_found(name)
        return row

    @staticmethod
    def _version_row(conn: Connection, model: Any, version: int) -> Any:
        row = conn.execute(
            sa.select(mv).where(
                mv.c.registered_model_id == model.id, mv.c.version == version, mv.c.current_stage != STAGE_DELETED
            )
        ).first()
        if row is None:
            raise _version_not_found(model.name, version)
        return row

    # -- entities ----------------------------------------------------------------------------
    def _versions(self, conn: Connection, rows: Sequence[Any], names: dict[int, str]) -> list[ModelVersion]:
        """Versions for ``rows`` of model_versions, with their tags and aliases."""
        keys = [(row.registered_model_id, row.version) for row in rows]
        tags: dict[tuple[int, int], dict[str, str]] = {key: {} for key in keys}
        aliases: dict[tuple[int, int], list[str]] = {key: [] for key in keys}
        model_ids = sorted({model_id for model_id, _ in keys})
        numbers = sorted({number for _, number in keys})
        # Two short IN lists (a superset of the pairs, filtered here) instead of one long list of pairs.
        for chunk in _chunks(model_ids):
            query = sa.select(model_version_tags).where(
                model_version_tags.c.registered_model_id.in_(list(chunk)),
                model_version_tags.c.version.in_(numbers) if len(numbers) <= _IN_CHUNK else sa.true(),
            )
            for tag in conn.execute(query):
                found = tags.get((tag.registered_model_id, tag.version))
                if found is not None:
                    found[tag.key] = tag.value
        for chunk in _chunks(model_ids):
            query = sa.select(registered_model_aliases).where(
                registered_model_aliases.c.registered_model_id.in_(list(chunk))
            ).order_by(registered_model_aliases.c.alias)
            for alias in conn.execute(query):
                key = (alias.registered_model_id, alias.version)
                if key in aliases:
                    aliases[key].append(alias.alias)
        return [
            new_model_version(
                name=names[row.registered_model_id],
                version=str(row.version),
                creation_timestamp=row.creation_time,
                last_updated_timestamp=row.last_updated_time,
                user_id=row.user_id,
                current_stage=row.current_stage,
                description=row.description,
                source=row.source,
                run_id=row.run_id,
                status=row.status,
                status_message=row.status_message,
                tags=tags[(row.registered_model_id, row.version)],
                run_link=row.run_link,
                aliases=aliases[(row.registered_model_id, row.version)],
                model_id=row.model_id,
            )
            for row in rows
        ]

    def _models(self, conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
        """Registered models for ``rows``, with tags, aliases and their latest version per stage."""
        names = {row.id: row.name for row in rows}
        ids = list(names)
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        aliases: dict[int, dict[str, str]] = {i: {} for i in ids}
        latest: dict[int, list[ModelVersion]] = {i: [] for i in ids}
        for chunk in _chunks(ids):
            chunk = list(chunk)
            for tag in conn.execute(sa.select(registered_model_tags).where(registered_model_tags.c.registered_model_id.in_(chunk))):
                tags[tag.registered_model_id][tag.key] = tag.value
            query = (
                sa.select(registered_model_aliases)
                .where(registered_model_aliases.c.registered_model_id.in_(chunk))
                .order_by(registered_model_aliases.c.alias)
            )
            for alias in conn.execute(query):
                aliases[alias.registered_model_id][alias.alias] = str(alias.version)
            latest_rows = self._latest_rows(conn, chunk)
            for row, version in zip(latest_rows, self._versions(conn, latest_rows, names)):
                latest[row.registered_model_id].append(version)
        return [
            new_registered_model(
                name=row.name,
                creation_timestamp=row.creation_time,
                last_updated_timestamp=row.last_updated_time,
                user_id=row.user_id,
                description=row.description,
                latest_versions=latest[row.id],
                tags=tags[row.id],
                aliases=aliases[row.id],
            )
            for row in rows
        ]

    @staticmethod
    def _latest_rows(conn: Connection, model_ids: list[int], stages: Sequence[str] | None = None) -> list[Any]:
        """The highest live version per (model, stage), ordered by model and version."""
        conditions = [mv.c.registered_model_id.in_(model_ids), mv.c.current_stage != STAGE_DELETED]
        if stages is not None:
            conditions.append(mv.c.current_stage.in_(list(stages)))
        newest = (
            sa.select(mv.c.registered_model_id, sa.func.max(mv.c.version).label("version"))
            .where(*conditions)
            .group_by(mv.c.registered_model_id, mv.c.current_stage)
            .subquery()
        )
        query = (
            sa.select(mv)
            .join(newest, sa.and_(mv.c.registered_model_id == newest.c.registered_model_id, mv.c.version == newest.c.version))
            .order_by(mv.c.registered_model_id, mv.c.version)
        )
        return conn.execute(query).all()

    def _model(self, conn: Connection, name: str) -> RegisteredModel:
        return self._models(conn, [self._model_row(conn, name)])[0]

    def _version(self, conn: Connection, model: Any, version: int) -> ModelVersion:
        return self._versions(conn, [self._version_row(conn, model, version)], {model.id: model.name})[0]

    # -- registered models ---------------------------------------------------------------------
    def create_registered_model(self, name, tags=None, description=None) -> RegisteredModel:
        rv.validate_model_name(name)
        tag_map = _tag_items(tags)
        rv.validate_text(description, "description", rv.MAX_DESCRIPTION_LENGTH)
        t = now_ms()
        try:
            with self._writer.begin() as conn:
                model_id = conn.execute(
                    sa.insert(rm),
                    {"name": name, "creation_time": t, "last_updated_time": t, "description": description,
                     "user_id": None, "last_version": 0},
                ).inserted_primary_key[0]
                if tag_map:
                    conn.execute(
                        sa.insert(registered_model_tags),
                        [{"registered_model_id": model_id, "key": k, "value": val} for k, val in tag_map.items()],
                    )
        except sa.exc.IntegrityError:
            raise HeadwaterError.already_exists(f"Registered Model (name={name}) already exists.") from None
        return RegisteredModel(name=name, creation_timestamp=t, last_updated_timestamp=t, description=description,
                               tags=tag_map)

    def get_registered_model(self, name) -> RegisteredModel:
        with self.engine.connect() as conn:
            return self._model(conn, name)

    def rename_registered_model(self, name, new_name) -> RegisteredModel:
        rv.validate_model_name(new_name, "new_name")
        try:
            with self._writer.begin() as conn:
                row = self._model_row(conn, name)
                conn.execute(sa.update(rm).where(rm.c.id == row.id).values(name=new_name, last_updated_time=now_ms()))
                return self._model(conn, new_name)
        except sa.exc.IntegrityError:
            raise HeadwaterError.already_exists(f"Registered Model (name={new_name}) already exists.") from None

    @_retry_conflicts
    def update_registered_model(self, name, description) -> RegisteredModel:
        rv.validate_text(description, "description", rv.MAX_DESCRIPTION_LENGTH)
        with self._writer.begin() as conn:
            row = self._model_row(conn, name)
            conn.execute(sa.update(rm).where(rm.c.id == row.id).values(description=description, last_updated_time=now_ms()))
            return self._model(conn, name)

    def delete_registered_model(self, name) -> None:
        with self._writer.begin() as conn:
            model_id = self._model_row(conn, name).id
            # Explicit deletes, children first: the same on every backend, with or without FK cascades.
            conn.execute(sa.delete(registered_model_aliases).where(registered_model_aliases.c.registered_model_id == model_id))
            conn.execute(sa.delete(model_version_tags).where(model_version_tags.c.registered_model_id == model_id))
            conn.execute(sa.delete(mv).where(mv.c.registered_model_id == model_id))
            conn.execute(sa.delete(registered_model_tags).where(registered_model_tags.c.registered_model_id == model_id))
            conn.execute(sa.delete(rm).where(rm.c.id == model_id))

    def search_registered_models(
        self, filter_string=None, max_results=None, order_by=None, page_token=None
    ) -> PagedList[RegisteredModel]:
        from headwater.search import parse_filter, parse_order_by

        max_results = rv.validate_max_results(
            max_results, rv.SEARCH_REGISTERED_MODELS_DEFAULT, rv.SEARCH_REGISTERED_MODELS_LIMIT
        )
        offset = decode_page_token(page_token)
        conditions = registry_searching.model_filter(parse_filter(filter_string or "", "registered_models"))
        keys = parse_order_by(list(order_by or []), "registered_models")
        query = (
            sa.select(rm)
            .where(*conditions)
            .order_by(*registry_searching.model_order(keys, self.dialect))
            .offset(offset)
            .limit(max_results + 1)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(items=self._models(conn, rows[:max_results]), token=token)

    def get_latest_versions(self, name, stages=None) -> list[ModelVersion]:
        wanted = [ModelVersionStage.parse(s).value for s in stages or ()] or None
        with self.engine.connect() as conn:
            model = self._model_row(conn, name)
            rows = self._latest_rows(conn, [model.id], wanted)
            return self._versions(conn, rows, {model.id: model.name})

    @_retry_conflicts
    def set_registered_model_tag(self, name, key, value) -> None:
        text = rv.validate_tag(key, value)
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            conn.execute(self._upsert_model_tag, {"registered_model_id": model.id, "key": key, "value": text})

    def delete_registered_model_tag(self, name, key) -> None:
        rv.validate_tag(key, "")
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            conn.execute(
                sa.delete(registered_model_tags).where(
                    registered_model_tags.c.registered_model_id == model.id, registered_model_tags.c.key == key
                )
            )

    # -- model versions ---------------------------------------------------------------------
    def _storage_location(self, source: str) -> str:
        """Where a new version's files are: its source, or for a registered-model source, that version's place."""
        if not is_model_uri(source):
            return source
        parsed = parse_model_uri(source)
        if parsed.name is None:  # a logged model; its location is the tracking store's to know
            return source
        try:
            target = resolve_model_version(self, parsed)
        except HeadwaterError as err:
            raise HeadwaterError.invalid(
                f"Unable to fetch model from model URI source artifact location '{source}'. Error: {err.message}"
            ) from None
        return self.get_model_version_download_uri(target.name, target.version)

    def create_model_version(
        self, name, source, run_id=None, tags=None, run_link=None, description=None, model_id=None
    ) -> ModelVersion:
        rv.validate_model_name(name)
        if not isinstance(source, str) or source == "":
            raise HeadwaterError.invalid("Missing value for required parameter 'source'.")
        rv.validate_text(source, "source", rv.MAX_SOURCE_LENGTH)
        rv.validate_text(description, "description", rv.MAX_DESCRIPTION_LENGTH)
        rv.validate_text(run_link, "run_link", rv.MAX_RUN_LINK_LENGTH)
        rv.validate_text(run_id, "run_id", 256)
        rv.validate_text(model_id, "model_id", 64)
        tag_map = _tag_items(tags)
        storage_location = self._storage_location(source)
        return self._insert_version(name, source, storage_location, run_id or None, tag_map, run_link, description,
                                    model_id or None)

    @_retry_conflicts
    def _insert_version(self, name, source, storage_location, run_id, tag_map, run_link, description, model_id) -> ModelVersion:
        t = now_ms()
        with self._writer.begin() as conn:
            # Taking the next number locks the model's row: concurrent creators queue here.
            claimed = conn.execute(
                sa.update(rm)
                .where(rm.c.name == name)
                .values(last_version=rm.c.last_version + 1, last_updated_time=t)
            ).rowcount
            if not claimed:
                raise _model_not_found(name)
            model = conn.execute(sa.select(rm.c.id, rm.c.last_version).where(rm.c.name == name)).one()
            row = {
                "registered_model_id": model.id,
                "version": model.last_version,
                "creation_time": t,
                "last_updated_time": t,
                "description": description,
                "user_id": None,
                "current_stage": ModelVersionStage.NONE.value,
                "source": source,
                "storage_location": storage_location,
                "run_id": run_id,
                "run_link": run_link,
                "status": ModelVersionStatus.READY.value,
                "status_message": None,
                "model_id": model_id,
            }
            conn.execute(sa.insert(mv), row)
            if tag_map:
                conn.execute(
                    sa.insert(model_version_tags),
                    [{"registered_model_id": model.id, "version": model.last_version, "key": k, "value": val}
                     for k, val in tag_map.items()],
                )
        return ModelVersion(
            name=name, version=str(row["version"]), creation_timestamp=t, last_updated_timestamp=t,
            current_stage=row["current_stage"], description=description, source=source, run_id=run_id,
            status=row["status"], tags=tag_map, run_link=run_link, model_id=model_id,
        )

    def get_model_version(self, name, version) -> ModelVersion:
        number = rv.parse_version(version)
        with self.engine.connect() as conn:
            return self._version(conn, self._model_row(conn, name), number)

    @_retry_conflicts
    def update_model_version(self, name, version, description) -> ModelVersion:
        number = rv.parse_version(version)
        rv.validate_text(description, "description", rv.MAX_DESCRIPTION_LENGTH)
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            self._version_row(conn, model, number)
            conn.execute(
                sa.update(mv)
                .where(mv.c.registered_model_id == model.id, mv.c.version == number)
                .values(description=description, last_updated_time=now_ms())
            )
            return self._version(conn, model, number)

    @_retry_conflicts
    def transition_model_version_stage(self, name, version, stage, archive_existing_versions=False) -> ModelVersion:
        number = rv.parse_version(version)
        target = ModelVersionStage.parse(stage)
        if archive_existing_versions and target not in ARCHIVABLE_FROM:
            raise HeadwaterError(
                f"Model version transition cannot archive existing model versions because '{target.value}' is"
                f" not an Active stage. Valid stages are {[s.value for s in ARCHIVABLE_FROM]}",
                ErrorCode.INTERNAL_ERROR,
            )
        t = now_ms()
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            self._version_row(conn, model, number)
            if archive_existing_versions:
                conn.execute(
                    sa.update(mv)
                    .where(mv.c.registered_model_id == model.id, mv.c.version != number,
                           mv.c.current_stage == target.value)
                    .values(current_stage=ModelVersionStage.ARCHIVED.value, last_updated_time=t)
                )
            conn.execute(
                sa.update(mv)
                .where(mv.c.registered_model_id == model.id, mv.c.version == number)
                .values(current_stage=target.value, last_updated_time=t)
            )
            conn.execute(sa.update(rm).where(rm.c.id == model.id).values(last_updated_time=t))
            return self._version(conn, model, number)

    def delete_model_version(self, name, version) -> None:
        number = rv.parse_version(version)
        t = now_ms()
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            self._version_row(conn, model, number)
            conn.execute(
                sa.delete(registered_model_aliases).where(
                    registered_model_aliases.c.registered_model_id == model.id,
                    registered_model_aliases.c.version == number,
                )
            )
            conn.execute(
                sa.delete(model_version_tags).where(
                    model_version_tags.c.registered_model_id == model.id, model_version_tags.c.version == number
                )
            )
            # The row stays, redacted, so the number is never handed out again.
            conn.execute(
                sa.update(mv)
                .where(mv.c.registered_model_id == model.id, mv.c.version == number)
                .values(
                    current_stage=STAGE_DELETED, last_updated_time=t, description=None, user_id=None,
                    status_message=None, source=REDACTED_SOURCE, storage_location=REDACTED_SOURCE,
                    run_id=REDACTED_RUN_ID, run_link=REDACTED_RUN_LINK,
                )
            )
            conn.execute(sa.update(rm).where(rm.c.id == model.id).values(last_updated_time=t))

    def get_model_version_download_uri(self, name, version) -> str:
        number = rv.parse_version(version)
        with self.engine.connect() as conn:
            row = self._version_row(conn, self._model_row(conn, name), number)
            return row.storage_location or row.source

    def search_model_versions(
        self, filter_string=None, max_results=None, order_by=None, page_token=None
    ) -> PagedList[ModelVersion]:
        from headwater.search import parse_filter, parse_order_by

        max_results = rv.validate_max_results(
            max_results, rv.SEARCH_MODEL_VERSIONS_DEFAULT, rv.SEARCH_MODEL_VERSIONS_LIMIT
        )
        offset = decode_page_token(page_token)
        conditions = registry_searching.version_filter(parse_filter(filter_string or "", "model_versions"))
        keys = parse_order_by(list(order_by or []), "model_versions")
        query = (
            sa.select(mv, rm.c.name.label("model_name"))
            .select_from(mv.join(rm, rm.c.id == mv.c.registered_model_id))
            .where(mv.c.current_stage != STAGE_DELETED, registry_searching.not_prompt(), *conditions)
            .order_by(*registry_searching.version_order(keys, self.dialect))
            .offset(offset)
            .limit(max_results + 1)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            page = rows[:max_results]
            names = {row.registered_model_id: row.model_name for row in page}
            return PagedList(items=self._versions(conn, page, names), token=token)

    @_retry_conflicts
    def set_model_version_tag(self, name, version, key, value) -> None:
        number = rv.parse_version(version)
        text = rv.validate_tag(key, value)
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            self._version_row(conn, model, number)
            conn.execute(
                self._upsert_version_tag,
                {"registered_model_id": model.id, "version": number, "key": key, "value": text},
            )

    def delete_model_version_tag(self, name, version, key) -> None:
        number = rv.parse_version(version)
        rv.validate_tag(key, "")
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            self._version_row(conn, model, number)
            conn.execute(
                sa.delete(model_version_tags).where(
                    model_version_tags.c.registered_model_id == model.id,
                    model_version_tags.c.version == number,
                    model_version_tags.c.key == key,
                )
            )

    # -- aliases --------------------------------------------------------------------------------
    @_retry_conflicts
    def set_registered_model_alias(self, name, alias, version) -> None:
        rv.validate_alias(alias)
        number = rv.parse_version(version)
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            self._version_row(conn, model, number)
            conn.execute(self._upsert_alias, {"registered_model_id": model.id, "alias": alias, "version": number})

    def delete_registered_model_alias(self, name, alias) -> None:
        if not isinstance(alias, str) or alias == "":
            raise HeadwaterError.invalid("Registered model alias name cannot be empty.")
        with self._writer.begin() as conn:
            model = self._model_row(conn, name)
            conn.execute(
                sa.delete(registered_model_aliases).where(
                    registered_model_aliases.c.registered_model_id == model.id,
                    registered_model_aliases.c.alias == alias,
                )
            )

    def get_model_version_by_alias(self, name, alias) -> ModelVersion:
        if not isinstance(alias, str) or alias == "":
            raise HeadwaterError.invalid("Registered model alias name cannot be empty.")
        with self.engine.connect() as conn:
            model = self._model_row(conn, name)
            if alias.lower() == "latest":
                number = conn.execute(
                    sa.select(sa.func.max(mv.c.version)).where(
                        mv.c.registered_model_id == model.id, mv.c.current_stage != STAGE_DELETED
                    )
                ).scalar()
                if number is None:
                    raise HeadwaterError.not_found(f"Registered model '{name}' has no versions.")
            else:
                number = conn.execute(
                    sa.select(registered_model_aliases.c.version).where(
                        registered_model_aliases.c.registered_model_id == model.id,
                        registered_model_aliases.c.alias == alias,
                    )
                ).scalar()
                if number is None:
                    # MLflow answers an unknown alias with INVALID_PARAMETER_VALUE, not a 404.
                    raise HeadwaterError.invalid(f"Registered model alias {alias} not found.")
            return self._version(conn, model, number)

