"""Logged models (MLflow 3) in the SQL tracking store.

:class:`SqlLoggedModels` is mixed into :class:`~headwater_store_sql.store.SqlTrackingStore`
and implements :class:`~headwater.store.logged_models.LoggedModelStore` on the
tables of :mod:`headwater_store_sql.logged_model_schema`.

Searching compiles attribute comparisons to SQL and applies tag and param
comparisons to the rows of those experiments that pass. Logged-model
metrics are not recorded by this store, so a metric comparison matches no
model.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from headwater import validation as v
from headwater.entities import LoggedModel, LoggedModelInput, LoggedModelOutput, LoggedModelStatus, PagedList
from headwater.entities import LifecycleStage
from headwater.exceptions import HeadwaterError
from headwater.search.ast import Comparison
from headwater.search.evaluate import compare
from headwater.store.logged_models import SEARCH_MAX_RESULTS_DEFAULT, validate_logged_model_name
from headwater.store.paging import decode_page_token, encode_page_token
from headwater_store_sql import dialects
from headwater_store_sql.logged_model_schema import (
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_inputs,
    run_model_outputs,
)
from headwater_store_sql.names import random_run_name
from headwater_store_sql.schema import runs

SEARCH_MAX_RESULTS_LIMIT = 1000
_ORDER_COLUMNS = {
    "name": "name",
    "model_id": "model_id",
    "creation_timestamp": "creation_timestamp",
    "creation_time": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "status": "status",
    "model_type": "model_type",
}


def _now() -> int:
    return int(time.time() * 1000)


def _not_found(model_id: str) -> HeadwaterError:
    return HeadwaterError.not_found(f"Logged model with ID '{model_id}' not found.")


def _pairs(items: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): val if isinstance(val, str) else str(val) for k, val in (items or {}).items()}


def _check_keys(kind: str, pairs: Mapping[str, str]) -> None:
    for key in pairs:
        if not key or len(key) > 250:
            raise HeadwaterError.invalid(f"Invalid {kind} key {key!r}: it must have 1 to 250 characters.")


def _status_value(value: Any) -> Any:
    """Filters may name a status by its short name (``READY``); the table keeps the wire name."""
    if isinstance(value, tuple):
        return tuple(_status_value(item) for item in value)
    try:
        return LoggedModelStatus.parse(value).value
    except HeadwaterError:
        return value


def _attribute_clause(c: Comparison) -> Any:
    column = logged_models.c[c.key]
    value = _status_value(c.value) if c.key == "status" else c.value
    op = c.op
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return sa.func.lower(column).like(sa.func.lower(sa.literal(value)))
    if op == "IN":
        return column.in_(list(value))  # type: ignore[arg-type]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[arg-type]
    raise HeadwaterError.invalid(f"Unsupported operator {op!r} for logged models")


def as_output(item: Any) -> LoggedModelOutput:
    """A model output given as the entity, a ``(model_id, step)`` pair or a dict."""
    if isinstance(item, LoggedModelOutput):
        return item
    if isinstance(item, Mapping):
        return LoggedModelOutput(model_id=item["model_id"], step=int(item.get("step") or 0))
    model_id, step = item
    return LoggedModelOutput(model_id=model_id, step=int(step or 0))


def _matches(model: LoggedModel, comparisons: Sequence[Comparison]) -> bool:
    for c in comparisons:
        if c.entity == "metric":
            values = [m.value for m in model.metrics if m.key == c.key]
            if not values or not compare(values[-1], c.op, c.value):
                return False
            continue
        source = model.tags if c.entity == "tag" else model.params
        if c.key not in source or not compare(source[c.key], c.op, c.value):
            return False
    return True


def _sort_key(field: str, ascending: bool):
    def key(model: LoggedModel) -> Any:
        value = getattr(model, field) if field != "status" else model.status.value
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return (missing, value if ascending or missing else _Reverse(value))

    return key


class _Reverse:
    """Wraps a value so that sorting ascending orders it descending."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __lt__(self, other: "_Reverse") -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and other.value == self.value


class SqlLoggedModels:
    """Logged-model methods of the SQL store (needs ``engine``, ``_writer``, ``dialect``)."""

    engine: Any
    _writer: Any
    dialect: str

    # -- reading ----------------------------------------------------------------------
    def _logged_models(self, conn: Connection, rows: Sequence[Any]) -> list[LoggedModel]:
        ids = [row.model_id for row in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            for t in conn.execute(sa.select(logged_model_tags).where(logged_model_tags.c.model_id.in_(chunk))):
                tags[t.model_id][t.key] = t.value
            for p in conn.execute(sa.select(logged_model_params).where(logged_model_params.c.model_id.in_(chunk))):
                params[p.model_id][p.key] = p.value
        return [
            LoggedModel.model_construct(
                model_id=row.model_id,
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_uri=row.artifact_uri,
                status=LoggedModelStatus(row.status),
                creation_timestamp=row.creation_timestamp,
                last_updated_timestamp=row.last_updated_timestamp,
                model_type=row.model_type,
                source_run_id=row.source_run_id,
                status_message=row.status_message,
                tags=tags[row.model_id],
                params=params[row.model_id],
                metrics=[],
                lifecycle_stage=row.lifecycle_stage,
            )
            for row in rows
        ]

    def _model_row(self, conn: Connection, model_id: str, allow_deleted: bool = False) -> Any:
        row = conn.execute(sa.select(logged_models).where(logged_models.c.model_id == model_id)).first()
        if row is None or (row.lifecycle_stage != LifecycleStage.ACTIVE and not allow_deleted):
            raise _not_found(model_id)
        return row

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        with self.engine.connect() as conn:
            return self._logged_models(conn, [self._model_row(conn, model_id, allow_deleted)])[0]

    # -- writing ----------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        validate_logged_model_name(name)
        tag_pairs, param_pairs = _pairs(tags), _pairs(params)
        _check_keys("tag", tag_pairs)
        _check_keys("param", param_pairs)
        model_id = f"m-{uuid.uuid4().hex}"
        now = _now()
        with self._writer.begin() as conn:
            experiment = self._active_experiment(conn, experiment_id)  # type: ignore[attr-defined]
            if source_run_id:
                if conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == source_run_id)).first() is None:
                    raise HeadwaterError.not_found(f"Run with id={source_run_id} not found")
            row = {
                "model_id": model_id,
                "experiment_id": experiment.experiment_id,
                "name": name or random_run_name(),
                "artifact_uri": "/".join([experiment.artifact_location.rstrip("/"), "models", model_id, "artifacts"]),
                "status": LoggedModelStatus.PENDING.value,
                "status_message": None,
                "model_type": model_type or None,
                "source_run_id": source_run_id or None,
                "creation_timestamp": now,
                "last_updated_timestamp": now,
                "lifecycle_stage": LifecycleStage.ACTIVE,
            }
            conn.execute(sa.insert(logged_models), row)
            if tag_pairs:
                conn.execute(sa.insert(logged_model_tags),
                             [{"model_id": model_id, "key": k, "value": val} for k, val in tag_pairs.items()])
            if param_pairs:
                conn.execute(sa.insert(logged_model_params),
                             [{"model_id": model_id, "key": k, "value": val} for k, val in param_pairs.items()])
        return LoggedModel.model_construct(
            **{**row, "experiment_id": str(row["experiment_id"]), "status": LoggedModelStatus.PENDING},
            tags=tag_pairs, params=param_pairs, metrics=[],
        )

    def _touch(self, conn: Connection, model_id: str, **values: Any) -> None:
        conn.execute(
            sa.update(logged_models).where(logged_models.c.model_id == model_id)
            .values(last_updated_timestamp=_now(), **values)
        )

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        status = LoggedModelStatus.parse(status)
        with self._writer.begin() as conn:  # read back in the same transaction (it may be an outbox's)
            self._model_row(conn, model_id)
            self._touch(conn, model_id, status=status.value)
            return self._logged_models(conn, [self._model_row(conn, model_id)])[0]

    def delete_logged_model(self, model_id: str) -> None:
        with self._writer.begin() as conn:
            self._model_row(conn, model_id)
            self._touch(conn, model_id, lifecycle_stage=LifecycleStage.DELETED)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        pairs = _pairs(tags)
        _check_keys("tag", pairs)
        with self._writer.begin() as conn:
            self._model_row(conn, model_id)
            if pairs:
                statement = dialects.upsert(self.dialect, logged_model_tags, ("value",))
                conn.execute(statement, [{"model_id": model_id, "key": k, "value": val} for k, val in pairs.items()])
            self._touch(conn, model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._writer.begin() as conn:
            self._model_row(conn, model_id)
            deleted = conn.execute(
                sa.delete(logged_model_tags).where(logged_model_tags.c.model_id == model_id,
                                                   logged_model_tags.c.key == key)
            ).rowcount
            if not deleted:
                raise HeadwaterError.not_found(f"No tag with key {key!r} found for model with ID {model_id!r}.")
            self._touch(conn, model_id)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        pairs = _pairs(params)
        _check_keys("param", pairs)
        with self._writer.begin() as conn:
            self._model_row(conn, model_id)
            existing = {
                r.key: r.value
                for r in conn.execute(sa.select(logged_model_params).where(
                    logged_model_params.c.model_id == model_id, logged_model_params.c.key.in_(list(pairs))))
            }
            for key, value in pairs.items():
                if key in existing and existing[key] != value:
                    raise HeadwaterError.invalid(
                        f"Changing param values is not allowed. Param with key='{key}' was already logged with"
                        f" value='{existing[key]}' for model ID='{model_id}'. Attempted logging new value '{value}'."
                    )
            new = [{"model_id": model_id, "key": k, "value": val} for k, val in pairs.items() if k not in existing]
            if new:
                conn.execute(sa.insert(logged_model_params), new)

    # -- runs' outputs and inputs ------------------------------------------------------------
    def _link(self, table: sa.Table, run_id: str, rows: list[dict[str, Any]]) -> None:
        with self._writer.begin() as conn:
            self._active_run(conn, run_id)  # type: ignore[attr-defined]
            for model_id in {r["model_id"] for r in rows}:
                self._model_row(conn, model_id)
            if rows:
                conn.execute(dialects.insert_ignore(self.dialect, table), rows)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        outputs = [as_output(m) for m in models]
        self._link(run_model_outputs, run_id,
                   [{"run_id": run_id, "model_id": m.model_id, "step": m.step} for m in outputs])

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        self._link(run_model_inputs, run_id, [{"run_id": run_id, "model_id": m} for m in dict.fromkeys(model_ids)])

    def _with_model_io(self, conn: Connection, runs_: list[Any]) -> list[Any]:
        """The runs with their model outputs and inputs filled in (one query)."""
        ids = [r.info.run_id for r in runs_]
        if not ids:
            return runs_
        query = sa.union_all(
            sa.select(sa.literal("o").label("kind"), run_model_outputs.c.run_id, run_model_outputs.c.model_id,
                      run_model_outputs.c.step).where(run_model_outputs.c.run_id.in_(ids)),
            sa.select(sa.literal("i").label("kind"), run_model_inputs.c.run_id, run_model_inputs.c.model_id,
                      sa.literal(0).label("step")).where(run_model_inputs.c.run_id.in_(ids)),
        )
        outputs: dict[str, list[LoggedModelOutput]] = {}
        inputs: dict[str, list[LoggedModelInput]] = {}
        for kind, run_id, model_id, step in conn.execute(query):
            if kind == "o":
                outputs.setdefault(run_id, []).append(LoggedModelOutput(model_id=model_id, step=step))
            else:
                inputs.setdefault(run_id, []).append(LoggedModelInput(model_id=model_id))
        if not outputs and not inputs:
            return runs_
        out = []
        for run in runs_:
            run_id = run.info.run_id
            if run_id in outputs or run_id in inputs:
                run = run.model_copy(update={
                    "outputs": run.outputs.model_copy(update={"model_outputs": sorted(
                        outputs.get(run_id, []), key=lambda o: (o.step, o.model_id))}),
                    "inputs": run.inputs.model_copy(update={"model_inputs": inputs.get(run_id, [])}),
                })
            out.append(run)
        return out

    # -- searching -----------------------------------------------------------------------------
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        from headwater.search import parse_filter

        max_results = SEARCH_MAX_RESULTS_DEFAULT if max_results is None else max_results
        if not 1 <= max_results <= SEARCH_MAX_RESULTS_LIMIT:
            raise HeadwaterError.invalid(
                f"Invalid value {max_results} for parameter 'max_results': it must be between 1 and"
                f" {SEARCH_MAX_RESULTS_LIMIT}."
            )
        ids = [int(v.validate_experiment_id(e)) for e in experiment_ids]
        comparisons = parse_filter(filter_string or "", "logged_models")
        sql = [_attribute_clause(c) for c in comparisons if c.entity == "attribute"]
        rest = [c for c in comparisons if c.entity != "attribute"]
        keys = []
        for item in order_by or []:
            field = item.get("field_name") if isinstance(item, Mapping) else str(item)
            if field not in _ORDER_COLUMNS:
                raise HeadwaterError.invalid(
                    f"Invalid order_by field {field!r} for logged models; use one of {sorted(_ORDER_COLUMNS)}."
                )
            ascending = item.get("ascending", True) if isinstance(item, Mapping) else True
            keys.append((_ORDER_COLUMNS[field], ascending is not False))
        if not any(field == "creation_timestamp" for field, _ in keys):
            keys.append(("creation_timestamp", False))
        keys.append(("model_id", True))
        offset = decode_page_token(page_token)
        query = sa.select(logged_models).where(
            logged_models.c.experiment_id.in_(ids),
            logged_models.c.lifecycle_stage == LifecycleStage.ACTIVE,
            *sql,
        )
        with self.engine.connect() as conn:
            if not rest:
                # Everything filters and sorts in SQL: read one page only.
                columns = [logged_models.c[f].asc() if up else logged_models.c[f].desc() for f, up in keys]
                rows = conn.execute(query.order_by(*columns).offset(offset).limit(max_results + 1)).all()
                page = self._logged_models(conn, rows[:max_results])
                token = encode_page_token(offset + max_results) if len(rows) > max_results else None
                return PagedList(items=page, token=token)
            models = [m for m in self._logged_models(conn, conn.execute(query).all()) if _matches(m, rest)]
        for field, ascending in reversed(keys):
            models.sort(key=_sort_key(field, ascending))
        page = models[offset : offset + max_results]
        token = encode_page_token(offset + max_results) if len(models) > offset + max_results else None
        return PagedList(items=page, token=token)
