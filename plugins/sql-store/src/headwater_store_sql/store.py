"""The SQL tracking store: :class:`~headwater.store.TrackingStore` on SQLAlchemy Core.

Writes are short transactions of prebuilt statements (``log_metric`` is two
statements and a commit); reads load a page of runs and then their params,
tags, latest metrics and inputs in a few bulk queries. Entities are built
without validation (:mod:`headwater_store_sql.entities`): the rows came from
our own tables.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import time
import uuid
from types import SimpleNamespace
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from headwater.entities import (
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.paging import decode_page_token, encode_page_token
from headwater.store.tracking import DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, TrackingStore, sample_evenly
from headwater import validation as v
from headwater_store_sql import dialects
from headwater_store_sql.entities import (
    new_dataset,
    new_dataset_input,
    new_experiment,
    new_input_tag,
    new_metric,
    new_run,
    new_run_data,
    new_run_info,
    new_run_inputs,
)
from headwater_store_sql.engine import create_engine, default_artifact_root, write_engine
from headwater_store_sql.migrate import ensure_schema
from headwater_store_sql.names import random_run_name
from headwater_store_sql.schema import datasets as dataset_table
from headwater_store_sql.schema import (
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    metrics,
    params,
    run_inputs,
    runs,
    tags,
)
from headwater_store_sql import searching, summaries
from headwater_store_sql.logged_models import SqlLoggedModels

ACTIVE = LifecycleStage.ACTIVE
DELETED = LifecycleStage.DELETED
RUN_NAME_TAG = searching.RUN_NAME_TAG
MAX_HISTORY_BULK_RUNS = 100
# Bound parameters per IN list; far below every backend's limit.
_IN_CHUNK = 900

_NAN = float("nan")
_STATUSES = {status.value: status for status in RunStatus}


def now_ms() -> int:
    return int(time.time() * 1000)


def _join_uri(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def _resolve_root(location: str) -> str:
    """Relative local paths become absolute; URIs (s3://, file:...) stay as given."""
    if urlsplit(location).scheme or os.path.isabs(location):
        return location
    return os.path.abspath(location)


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pairs(tags_in: Any) -> list[tuple[str, str]]:
    """Tags given as a dict, (key, value) pairs or objects with key/value, as pairs."""
    if not tags_in:
        return []
    if isinstance(tags_in, dict):
        pairs = list(tags_in.items())
    else:
        pairs = [(t.key, t.value) if hasattr(t, "key") else (t[0], t[1]) for t in tags_in]
    return [(k, "" if val is None else str(val)) for k, val in pairs]


def _run_not_found(run_id: str) -> HeadwaterError:
    return HeadwaterError.not_found(f"Run with id={run_id} not found")


def _experiment_not_found(experiment_id: Any) -> HeadwaterError:
    return HeadwaterError.not_found(f"No Experiment with id={experiment_id} exists")


def _run_not_active(run_id: str, stage: str) -> HeadwaterError:
    return HeadwaterError.invalid(f"The run {run_id} must be in the 'active' state. Current state is {stage}.")


def _experiment_not_active(experiment_id: Any, stage: str) -> HeadwaterError:
    return HeadwaterError.invalid(
        f"The experiment {experiment_id} must be in the 'active' state. Current state is {stage}."
    )


def _experiment_id(experiment_id: Any) -> int:
    return int(v.validate_experiment_id(experiment_id))


# Deadlock / serialization failures worth retrying: PostgreSQL SQLSTATEs and MySQL error numbers.
_PG_RETRYABLE = {"40001", "40P01"}
_MYSQL_RETRYABLE = {1205, 1213}
_ATTEMPTS = 3


def _retryable(error: sa.exc.DBAPIError) -> bool:
    if isinstance(error, sa.exc.IntegrityError):
        return True  # a concurrent writer inserted the same key first; the retry sees its row
    orig = error.orig
    if getattr(orig, "sqlstate", None) in _PG_RETRYABLE:
        return True
    args = getattr(orig, "args", ())
    return bool(args) and args[0] in _MYSQL_RETRYABLE


def _retry_conflicts(method):
    """Run a write again if it lost a race with a concurrent writer (it was rolled back)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        for attempt in range(_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except sa.exc.DBAPIError as error:
                if attempt == _ATTEMPTS - 1 or not _retryable(error):
                    raise

    return wrapper


class _Statements:
    """Statements used on hot paths, built once per dialect."""

    def __init__(self, dialect: str):
        bp = sa.bindparam
        self.run_state = sa.select(runs.c.lifecycle_stage, runs.c.experiment_id).where(runs.c.run_id == bp("run_id"))
        # One statement checks that the run is active and appends the point.
        self.insert_metric_if_active = dialects.insert_ignore(
            dialect,
            metrics,
            # (Bind names must differ from the column names in an INSERT.)
            sa.select(
                runs.c.run_id,
                bp("b_key", type_=sa.String),
                bp("b_timestamp", type_=sa.BigInteger),
                bp("b_step", type_=sa.BigInteger),
                bp("b_value", type_=sa.Double),
                bp("b_is_nan", type_=sa.Boolean),
            ).where(runs.c.run_id == bp("b_run_id"), runs.c.lifecycle_stage == ACTIVE),
            ["run_id", "key", "timestamp", "step", "value", "is_nan"],
        ).execution_options(preserve_rowcount=True)
        self.insert_metrics = dialects.insert_ignore(dialect, metrics)
        self.upsert_latest = dialects.upsert_latest_metric(dialect, latest_metrics)
        self.param_state = (
            sa.select(runs.c.lifecycle_stage, params.c.value)
            .select_from(runs.outerjoin(params, sa.and_(params.c.run_id == runs.c.run_id, params.c.key == bp("key"))))
            .where(runs.c.run_id == bp("run_id"))
        )
        self.existing_params = sa.select(params.c.key, params.c.value).where(
            params.c.run_id == bp("run_id"), params.c.key.in_(bp("keys", expanding=True))
        )
        self.insert_param = sa.insert(params)
        self.insert_tags = sa.insert(tags)
        self.upsert_tag = dialects.upsert(dialect, tags, ("value",))
        self.upsert_experiment_tag = dialects.upsert(dialect, experiment_tags, ("value",))
        self.rename_run = sa.update(runs).where(runs.c.run_id == bp("b_run_id")).values(name=bp("b_name"))
        self.insert_datasets = dialects.insert_ignore(dialect, dataset_table)
        self.select_run = sa.select(runs).where(runs.c.run_id == bp("run_id"))
        self.params_and_tags = sa.union_all(
            sa.select(sa.literal("p").label("kind"), params.c.run_id, params.c.key, params.c.value).where(
                params.c.run_id.in_(bp("run_ids", expanding=True))
            ),
            sa.select(sa.literal("t").label("kind"), tags.c.run_id, tags.c.key, tags.c.value).where(
                tags.c.run_id.in_(bp("run_ids", expanding=True))
            ),
        )
        self.latest_for_runs = sa.select(latest_metrics).where(latest_metrics.c.run_id.in_(bp("run_ids", expanding=True)))
        self.inputs_for_runs = (
            sa.select(run_inputs.c.run_id, dataset_table)
            .select_from(run_inputs.join(dataset_table, dataset_table.c.dataset_id == run_inputs.c.dataset_id))
            .where(run_inputs.c.run_id.in_(bp("run_ids", expanding=True)))
            .order_by(run_inputs.c.run_id, run_inputs.c.position)
        )
        self.input_tags_for_runs = sa.select(input_tags).where(input_tags.c.run_id.in_(bp("run_ids", expanding=True)))
        self.select_experiment = sa.select(experiments).where(experiments.c.experiment_id == bp("experiment_id"))
        self.experiment_tags_for = sa.select(experiment_tags).where(
            experiment_tags.c.experiment_id.in_(bp("experiment_ids", expanding=True))
        )
        self.history = (
            sa.select(metrics.c.key, metrics.c.value, metrics.c.is_nan, metrics.c.timestamp, metrics.c.step)
            .where(metrics.c.run_id == bp("run_id"), metrics.c.key == bp("key"))
            .order_by(metrics.c.timestamp, metrics.c.step, metrics.c.value)
        )


_STATEMENTS: dict[str, _Statements] = {}


class _DriverStatement:
    """A statement compiled once for one engine, run by the driver's executemany.

    Rows are dicts keyed by column; for positional paramstyles they become
    tuples in the compiled order. This skips SQLAlchemy's per-row parameter
    processing, which costs more than the insert itself on 1000-row batches.
    """

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        names = compiled.positiontup if compiled.positional else None
        self._as_tuple = operator.itemgetter(*names) if names else None

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        conn.exec_driver_sql(self.sql, [self._as_tuple(r) for r in rows] if self._as_tuple else rows)


class SqlTrackingStore(SqlLoggedModels, TrackingStore):
    """Tracking store on SQLite, PostgreSQL (psycopg 3) or MySQL/MariaDB (PyMySQL)."""

    def __init__(self, store_uri: str, artifact_uri: str | None = None, **engine_options: Any):
        self.store_uri = store_uri
        self.engine = create_engine(store_uri, **engine_options)
        self._writer = write_engine(self.engine)
        self.dialect = self.engine.dialect.name
        self.artifact_root = _resolve_root(artifact_uri) if artifact_uri else default_artifact_root(store_uri)
        ensure_schema(self.engine)
        if self.dialect not in _STATEMENTS:
            _STATEMENTS[self.dialect] = _Statements(self.dialect)
        self._s = _STATEMENTS[self.dialect]
        # log_batch's bulk writes skip SQLAlchemy's per-row parameter processing.
        self._bulk_insert_metrics = _DriverStatement(self._s.insert_metrics, self.engine.dialect)
        self._bulk_upsert_latest = _DriverStatement(self._s.upsert_latest, self.engine.dialect)
        self._ensure_default_experiment()

    def close(self) -> None:
        self.engine.dispose()

    def enable_event_outbox(self, wanted=None):
        """Write events in the transactions of the changes they announce (the server's outbox)."""
        from headwater_store_sql.outbox import enable_outbox

        return enable_outbox(self, wanted)

    def __repr__(self) -> str:
        return f"SqlTrackingStore({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- helpers -------------------------------------------------------------------
    def _ensure_default_experiment(self) -> None:
        with self.engine.connect() as conn:
            if conn.execute(self._s.select_experiment, {"experiment_id": 0}).first() is not None:
                return
        t = now_ms()
        row = {
            "experiment_id": 0,
            "name": DEFAULT_EXPERIMENT_NAME,
            "artifact_location": _join_uri(self.artifact_root, DEFAULT_EXPERIMENT_ID),
            "lifecycle_stage": ACTIVE,
            "creation_time": t,
            "last_update_time": t,
        }
        with self._writer.begin() as conn:
            dialects.insert_with_explicit_id(conn, self.dialect, experiments, row)

    def _active_run(self, conn: Connection, run_id: str) -> int:
        """Check that the run exists and is active; returns its experiment id."""
        row = conn.execute(self._s.run_state, {"run_id": run_id}).first()
        if row is None:
            raise _run_not_found(run_id)
        if row.lifecycle_stage != ACTIVE:
            raise _run_not_active(run_id, row.lifecycle_stage)
        return row.experiment_id

    def _experiment_row(self, conn: Connection, experiment_id: Any):
        exp_id = _experiment_id(experiment_id)
        row = conn.execute(self._s.select_experiment, {"experiment_id": exp_id}).first()
        if row is None:
            raise _experiment_not_found(exp_id)
        return row

    def _active_experiment(self, conn: Connection, experiment_id: Any):
        row = self._experiment_row(conn, experiment_id)
        if row.lifecycle_stage != ACTIVE:
            raise _experiment_not_active(row.experiment_id, row.lifecycle_stage)
        return row

    @staticmethod
    def _metric_row(run_id: str, metric: Metric) -> dict[str, Any]:
        is_nan = math.isnan(metric.value)
        return {
            "run_id": run_id,
            "key": metric.key,
            "timestamp": metric.timestamp,
            "step": metric.step or 0,
            "value": 0.0 if is_nan else float(metric.value),
            "is_nan": is_nan,
        }

    # -- experiments -------------------------------------------------------------------
    def create_experiment(self, name, artifact_location=None, tags=None) -> str:
        v.validate_experiment_name(name)
        v.validate_artifact_location(artifact_location)
        tag_pairs = _pairs(tags)
        for key, value in tag_pairs:
            v.validate_experiment_tag(key, value)
        t = now_ms()
        try:
            with self._writer.begin() as conn:
                result = conn.execute(
                    sa.insert(experiments),
                    {
                        "name": name,
                        "artifact_location": _resolve_root(artifact_location) if artifact_location else "",
                        "lifecycle_stage": ACTIVE,
                        "creation_time": t,
                        "last_update_time": t,
                    },
                )
                exp_id = result.inserted_primary_key[0]
                if not artifact_location:
                    conn.execute(
                        sa.update(experiments)
                        .where(experiments.c.experiment_id == exp_id)
                        .values(artifact_location=_join_uri(self.artifact_root, str(exp_id)))
                    )
                if tag_pairs:
                    conn.execute(
                        sa.insert(experiment_tags),
                        [{"experiment_id": exp_id, "key": k, "value": val} for k, val in dict(tag_pairs).items()],
                    )
        except sa.exc.IntegrityError:
            raise HeadwaterError.already_exists(f"Experiment(name={name}) already exists.")
        return str(exp_id)

    def _experiments_with_tags(self, conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
        tag_map: dict[int, dict[str, str]] = {row.experiment_id: {} for row in rows}
        ids = list(tag_map)
        for chunk in _chunks(ids):
            for tag in conn.execute(self._s.experiment_tags_for, {"experiment_ids": list(chunk)}):
                tag_map[tag.experiment_id][tag.key] = tag.value
        return [
            new_experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                lifecycle_stage=row.lifecycle_stage,
                creation_time=row.creation_time,
                last_update_time=row.last_update_time,
                tags=tag_map[row.experiment_id],
            )
            for row in rows
        ]

    def get_experiment(self, experiment_id) -> Experiment:
        with self.engine.connect() as conn:
            row = self._experiment_row(conn, experiment_id)
            return self._experiments_with_tags(conn, [row])[0]

    def get_experiment_by_name(self, name) -> Experiment | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(experiments).where(experiments.c.name == name)).first()
            # MySQL compares with the column's collation; make sure the match is exact.
            if row is None or row.name != name:
                return None
            return self._experiments_with_tags(conn, [row])[0]

    def search_experiments(
        self, view_type=ViewType.ACTIVE_ONLY, max_results=1000, filter_string=None, order_by=None, page_token=None
    ) -> PagedList[Experiment]:
        from headwater.search import parse_filter, parse_order_by

        max_results = v.validate_max_results(max_results, 1000, v.SEARCH_MAX_RESULTS_LIMIT, "experiments")
        view = ViewType.parse(view_type)
        offset = decode_page_token(page_token)
        conditions = [searching.experiment_filter(c) for c in parse_filter(filter_string or "", "experiments")]
        keys = parse_order_by(list(order_by or []), "experiments")
        query = (
            sa.select(experiments)
            .where(experiments.c.lifecycle_stage.in_(view.stages), *conditions)
            .order_by(*searching.experiment_order(keys, self.dialect))
            .offset(offset)
            .limit(max_results + 1)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(items=self._experiments_with_tags(conn, rows[:max_results]), token=token)

    def delete_experiment(self, experiment_id) -> None:
        exp_id = _experiment_id(experiment_id)
        t = now_ms()
        with self._writer.begin() as conn:
            updated = conn.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == exp_id, experiments.c.lifecycle_stage == ACTIVE)
                .values(lifecycle_stage=DELETED, last_update_time=t)
            ).rowcount
            if not updated:
                raise _experiment_not_found(exp_id)
            conn.execute(
                sa.update(runs).where(runs.c.experiment_id == exp_id).values(lifecycle_stage=DELETED, deleted_time=t)
            )

    def restore_experiment(self, experiment_id) -> None:
        exp_id = _experiment_id(experiment_id)
        with self._writer.begin() as conn:
            updated = conn.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == exp_id, experiments.c.lifecycle_stage == DELETED)
                .values(lifecycle_stage=ACTIVE, last_update_time=now_ms())
            ).rowcount
            if not updated:
                raise _experiment_not_found(exp_id)
            conn.execute(
                sa.update(runs).where(runs.c.experiment_id == exp_id).values(lifecycle_stage=ACTIVE, deleted_time=None)
            )

    def rename_experiment(self, experiment_id, new_name) -> None:
        v.validate_experiment_name(new_name)
        try:
            with self._writer.begin() as conn:
                row = self._experiment_row(conn, experiment_id)
                if row.lifecycle_stage != ACTIVE:
                    raise HeadwaterError("Cannot rename a non-active experiment.", ErrorCode.INVALID_STATE)
                conn.execute(
                    sa.update(experiments)
                    .where(experiments.c.experiment_id == row.experiment_id)
                    .values(name=new_name, last_update_time=now_ms())
                )
        except sa.exc.IntegrityError:
            raise HeadwaterError(f"Experiment(name={new_name}) already exists.", ErrorCode.BAD_REQUEST)

    def set_experiment_tag(self, experiment_id, key, value) -> None:
        v.validate_experiment_tag(key, value)
        with self._writer.begin() as conn:
            row = self._active_experiment(conn, experiment_id)
            conn.execute(
                self._s.upsert_experiment_tag,
                {"experiment_id": row.experiment_id, "key": key, "value": "" if value is None else str(value)},
            )

    def delete_experiment_tag(self, experiment_id, key) -> None:
        with self._writer.begin() as conn:
            row = self._active_experiment(conn, experiment_id)
            deleted = conn.execute(
                sa.delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == row.experiment_id, experiment_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise HeadwaterError.not_found(f"No tag with name: {key} in experiment with id {row.experiment_id}")

    # -- runs --------------------------------------------------------------------------
    def create_run(self, experiment_id, user_id=None, start_time=None, tags=None, run_name=None) -> Run:
        tag_map = {t.key: t.value for t in (v.validate_tag(RunTag(key=k, value=val)) for k, val in _pairs(tags))}
        name_tag = tag_map.get(RUN_NAME_TAG)
        if run_name and name_tag and run_name != name_tag:
            raise HeadwaterError.invalid(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values"
                f" (run_name='{run_name}', mlflow.runName='{name_tag}')."
            )
        name = run_name or name_tag or random_run_name()
        v.validate_run_name(name)
        tag_map[RUN_NAME_TAG] = name
        run_id = uuid.uuid4().hex
        with self._writer.begin() as conn:
            exp = self._active_experiment(conn, experiment_id)
            row = {
                "run_id": run_id,
                "experiment_id": exp.experiment_id,
                "name": name,
                "user_id": user_id or "",
                "status": RunStatus.RUNNING.value,
                "start_time": now_ms() if start_time is None else int(start_time),
                "end_time": None,
                "artifact_uri": _join_uri(exp.artifact_location, run_id, "artifacts"),
                "lifecycle_stage": ACTIVE,
                "deleted_time": None,
            }
            conn.execute(sa.insert(runs), row)
            conn.execute(self._s.insert_tags, [{"run_id": run_id, "key": k, "value": val} for k, val in tag_map.items()])
        return new_run(
            info=self._run_info(row),
            data=new_run_data(latest_metrics=[], params={}, tags=tag_map),
            inputs=new_run_inputs(dataset_inputs=[]),
        )

    @staticmethod
    def _run_info(row: Any) -> RunInfo:
        """RunInfo from a runs row (or a dict with the same keys)."""
        if isinstance(row, dict):
            row = SimpleNamespace(**row)
        return new_run_info(
            run_id=row.run_id,
            experiment_id=str(row.experiment_id),
            run_name=row.name,
            user_id=row.user_id,
            status=_STATUSES[row.status],
            start_time=row.start_time,
            end_time=row.end_time,
            artifact_uri=row.artifact_uri,
            lifecycle_stage=row.lifecycle_stage,
        )

    def _load_runs(self, conn: Connection, rows: Sequence[Any]) -> list[Run]:
        """Runs for ``rows`` of the runs table, with their data, in a few bulk queries."""
        run_ids = [row.run_id for row in rows]
        run_params: dict[str, dict[str, str]] = {r: {} for r in run_ids}
        run_tags: dict[str, dict[str, str]] = {r: {} for r in run_ids}
        run_metrics: dict[str, list[Metric]] = {r: [] for r in run_ids}
        run_inputs_: dict[str, list[DatasetInput]] = {r: [] for r in run_ids}
        construct = new_metric
        for chunk in _chunks(run_ids):
            ids = {"run_ids": list(chunk)}
            for kind, run_id, key, value in conn.execute(self._s.params_and_tags, ids):
                (run_params if kind == "p" else run_tags)[run_id][key] = value
            for m in conn.execute(self._s.latest_for_runs, ids):
                run_metrics[m.run_id].append(
                    construct(key=m.key, value=_NAN if m.is_nan else m.value, timestamp=m.timestamp, step=m.step)
                )
            self._load_inputs(conn, ids, run_inputs_)
        return [
            new_run(
                info=self._run_info(row),
                data=new_run_data(
                    latest_metrics=run_metrics[row.run_id], params=run_params[row.run_id], tags=run_tags[row.run_id]
                ),
                inputs=new_run_inputs(dataset_inputs=run_inputs_[row.run_id]),
            )
            for row in rows
        ]

    def _load_inputs(self, conn: Connection, ids: dict, out: dict[str, list[DatasetInput]]) -> None:
        rows = conn.execute(self._s.inputs_for_runs, ids).all()
        if not rows:
            return
        tag_map: dict[tuple[str, int], list[InputTag]] = {}
        for t in conn.execute(self._s.input_tags_for_runs, ids):
            tag_map.setdefault((t.run_id, t.dataset_id), []).append(new_input_tag(key=t.key, value=t.value))
        for r in rows:
            dataset = new_dataset(
                name=r.name,
                digest=r.digest,
                source_type=r.source_type,
                source=r.source,
                schema_=r.schema,
                profile=r.profile,
            )
            out[r.run_id].append(
                new_dataset_input(dataset=dataset, tags=tag_map.get((r.run_id, r.dataset_id), []))
            )

    def get_run(self, run_id) -> Run:
        with self.engine.connect() as conn:
            row = conn.execute(self._s.select_run, {"run_id": run_id}).first()
            if row is None:
                raise _run_not_found(run_id)
            return self._with_model_io(conn, self._load_runs(conn, [row]))[0]

    @_retry_conflicts
    def update_run_info(self, run_id, run_status=None, end_time=None, run_name=None) -> RunInfo:
        values: dict[str, Any] = {}
        if run_status is not None:
            values["status"] = RunStatus.parse(run_status).value
        if end_time is not None:
            values["end_time"] = int(end_time)
        elif values.get("status") == RunStatus.RUNNING.value:
            values["end_time"] = None  # a resumed run has not ended
        if run_name:
            v.validate_run_name(run_name)
            values["name"] = run_name
        with self._writer.begin() as conn:
            self._active_run(conn, run_id)
            if values:
                conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(**values))
            if run_name:
                conn.execute(self._s.upsert_tag, {"run_id": run_id, "key": RUN_NAME_TAG, "value": run_name})
            return self._run_info(conn.execute(self._s.select_run, {"run_id": run_id}).one())

    def _set_lifecycle(self, run_id: str, stage: str) -> None:
        with self._writer.begin() as conn:
            updated = conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id)
                .values(lifecycle_stage=stage, deleted_time=now_ms() if stage == DELETED else None)
            ).rowcount
            if not updated:
                raise _run_not_found(run_id)

    def delete_run(self, run_id) -> None:
        self._set_lifecycle(run_id, DELETED)

    def restore_run(self, run_id) -> None:
        self._set_lifecycle(run_id, ACTIVE)

    # -- logging -------------------------------------------------------------------------
    @_retry_conflicts
    def log_metric(self, run_id, metric) -> None:
        v.validate_run_id(run_id)
        row = self._metric_row(run_id, v.validate_metric(metric))
        with self._writer.begin() as conn:
            if not conn.execute(self._s.insert_metric_if_active, {f"b_{k}": val for k, val in row.items()}).rowcount:
                # The run is missing or deleted, or this exact point is already stored.
                self._active_run(conn, run_id)
                return
            conn.execute(self._s.upsert_latest, row)

    @_retry_conflicts
    def log_param(self, run_id, param) -> None:
        v.validate_run_id(run_id)
        param = v.validate_param(param)
        with self._writer.begin() as conn:
            state = conn.execute(self._s.param_state, {"run_id": run_id, "key": param.key}).first()
            if state is None:
                raise _run_not_found(run_id)
            if state.lifecycle_stage != ACTIVE:
                raise _run_not_active(run_id, state.lifecycle_stage)
            if state.value is None:
                conn.execute(self._s.insert_param, {"run_id": run_id, "key": param.key, "value": param.value})
            elif state.value != param.value:
                raise HeadwaterError.invalid(v.param_conflict_message(run_id, param.key, state.value, param.value))

    @_retry_conflicts
    def set_tag(self, run_id, tag) -> None:
        v.validate_run_id(run_id)
        tag = v.validate_tag(tag)
        if tag.key == RUN_NAME_TAG:
            v.validate_run_name(tag.value)
        with self._writer.begin() as conn:
            self._active_run(conn, run_id)
            conn.execute(self._s.upsert_tag, {"run_id": run_id, "key": tag.key, "value": tag.value})
            if tag.key == RUN_NAME_TAG:
                conn.execute(self._s.rename_run, {"b_run_id": run_id, "b_name": tag.value})

    def delete_tag(self, run_id, key) -> None:
        with self._writer.begin() as conn:
            self._active_run(conn, run_id)
            deleted = conn.execute(sa.delete(tags).where(tags.c.run_id == run_id, tags.c.key == key)).rowcount
            if not deleted:
                raise HeadwaterError.not_found(f"No tag with name: {key} in run with id {run_id}")

    @_retry_conflicts
    def log_batch(self, run_id, metrics=(), params=(), tags=()) -> None:
        v.validate_run_id(run_id)
        clean_metrics, clean_params, clean_tags = v.validate_batch(list(metrics), list(params), list(tags))
        tag_map = {t.key: t.value for t in clean_tags}
        if RUN_NAME_TAG in tag_map:
            v.validate_run_name(tag_map[RUN_NAME_TAG])
        with self._writer.begin() as conn:
            self._active_run(conn, run_id)
            if clean_params:
                self._insert_new_params(conn, run_id, clean_params)
            if clean_metrics:
                self._insert_metrics(conn, run_id, clean_metrics)
            if tag_map:
                conn.execute(self._s.upsert_tag, [{"run_id": run_id, "key": k, "value": val} for k, val in tag_map.items()])
                if RUN_NAME_TAG in tag_map:
                    conn.execute(self._s.rename_run, {"b_run_id": run_id, "b_name": tag_map[RUN_NAME_TAG]})

    def _insert_new_params(self, conn: Connection, run_id: str, new: list[Param]) -> None:
        existing = dict(conn.execute(self._s.existing_params, {"run_id": run_id, "keys": [p.key for p in new]}).all())
        conflicts = [(p.key, existing[p.key], p.value) for p in new if p.key in existing and existing[p.key] != p.value]
        if conflicts:
            raise HeadwaterError.invalid(v.batch_param_conflict_message(run_id, conflicts))
        rows = [{"run_id": run_id, "key": p.key, "value": p.value} for p in new if p.key not in existing]
        if rows:
            conn.execute(self._s.insert_param, rows)

    def _insert_metrics(self, conn: Connection, run_id: str, points: list[Metric]) -> None:
        rows: dict[tuple, dict[str, Any]] = {}
        latest: dict[str, dict[str, Any]] = {}
        for metric in points:
            row = self._metric_row(run_id, metric)
            rows.setdefault((row["key"], row["timestamp"], row["step"], row["value"], row["is_nan"]), row)
            best = latest.get(row["key"])
            if best is None or (row["step"], row["timestamp"], row["value"]) > (
                best["step"],
                best["timestamp"],
                best["value"],
            ):
                latest[row["key"]] = row
        self._bulk_insert_metrics.run(conn, list(rows.values()))
        # Key order: concurrent batches lock the same rows in the same order (no deadlocks).
        self._bulk_upsert_latest.run(conn, [latest[k] for k in sorted(latest)])

    @_retry_conflicts
    def log_inputs(self, run_id, datasets=()) -> None:
        inputs = list(datasets or ())
        v.validate_run_id(run_id)
        for item in inputs:
            v.validate_dataset_input(item)
        unique: dict[tuple[str, str], DatasetInput] = {}
        for item in inputs:
            unique.setdefault((item.dataset.name, item.dataset.digest), item)
        if not unique:
            with self.engine.connect() as conn:
                self._active_run(conn, run_id)
            return
        with self._writer.begin() as conn:
            exp_id = self._active_run(conn, run_id)
            conn.execute(
                self._s.insert_datasets,
                [
                    {
                        "experiment_id": exp_id,
                        "name": d.dataset.name,
                        "digest": d.dataset.digest,
                        "source_type": d.dataset.source_type,
                        "source": d.dataset.source,
                        "schema": d.dataset.schema_,
                        "profile": d.dataset.profile,
                    }
                    for d in unique.values()
                ],
            )
            ids = {
                (r.name, r.digest): r.dataset_id
                for r in conn.execute(
                    sa.select(dataset_table.c.dataset_id, dataset_table.c.name, dataset_table.c.digest).where(
                        dataset_table.c.experiment_id == exp_id, dataset_table.c.name.in_({k[0] for k in unique})
                    )
                )
            }
            known = conn.execute(
                sa.select(run_inputs.c.dataset_id, run_inputs.c.position).where(run_inputs.c.run_id == run_id)
            ).all()
            linked = {r.dataset_id for r in known}
            position = max((r.position for r in known), default=-1)
            new_inputs, new_tags = [], []
            for key, item in unique.items():
                dataset_id = ids[key]
                if dataset_id in linked:
                    continue
                position += 1
                linked.add(dataset_id)
                new_inputs.append({"run_id": run_id, "dataset_id": dataset_id, "position": position})
                tags_by_key = {t.key: t.value for t in item.tags}
                new_tags += [
                    {"run_id": run_id, "dataset_id": dataset_id, "key": k, "value": val} for k, val in tags_by_key.items()
                ]
            if new_inputs:
                conn.execute(sa.insert(run_inputs), new_inputs)
            if new_tags:
                conn.execute(sa.insert(input_tags), new_tags)

    # -- reading metrics ----------------------------------------------------------------------
    def _check_run_exists(self, conn: Connection, run_id: str) -> None:
        if conn.execute(self._s.run_state, {"run_id": run_id}).first() is None:
            raise _run_not_found(run_id)

    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None) -> PagedList[Metric]:
        if max_results is not None:
            max_results = v.validate_max_results(max_results, 0, 2**62, "metric history")
        offset = decode_page_token(page_token)
        query = self._s.history
        if offset:
            query = query.offset(offset)
        if max_results is not None:
            query = query.limit(max_results + 1)
        with self.engine.connect() as conn:
            self._check_run_exists(conn, run_id)
            # Plain tuples from the driver: no per-row Row objects for long histories.
            rows = conn.execute(query, {"run_id": run_id, "key": metric_key}).cursor.fetchall()
        token = None
        if max_results is not None and len(rows) > max_results:
            rows = rows[:max_results]
            token = encode_page_token(offset + max_results)
        construct = new_metric
        return PagedList(
            items=[
                construct(key=key, value=_NAN if is_nan else value, timestamp=timestamp, step=step)
                for key, value, is_nan, timestamp, step in rows
            ],
            token=token,
        )

    def get_metric_history_bulk_interval(
        self, run_ids, metric_key, max_results=2500, start_step=None, end_step=None
    ) -> list[Metric]:
        """Every run's points in one query, then sampled per run like the portable default."""
        run_ids = list(dict.fromkeys(run_ids))
        if len(run_ids) > MAX_HISTORY_BULK_RUNS:
            raise HeadwaterError.invalid(
                f"GetMetricHistoryBulkInterval request must specify at most {MAX_HISTORY_BULK_RUNS} run_ids."
                f" Received {len(run_ids)} run_ids."
            )
        max_results = v.validate_max_results(max_results, 2500, 2500, "metric history")
        conditions = [metrics.c.run_id.in_(run_ids), metrics.c.key == metric_key]
        if start_step is not None:
            conditions.append(metrics.c.step >= start_step)
        if end_step is not None:
            conditions.append(metrics.c.step <= end_step)
        query = (
            sa.select(metrics)
            .where(*conditions)
            .order_by(metrics.c.run_id, metrics.c.step, metrics.c.timestamp, metrics.c.value)
        )
        per_run: dict[str, list[Metric]] = {r: [] for r in run_ids}
        construct = new_metric
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                per_run[r.run_id].append(
                    construct(
                        key=r.key,
                        value=_NAN if r.is_nan else r.value,
                        timestamp=r.timestamp,
                        step=r.step,
                        run_id=r.run_id,
                    )
                )
        out: list[Metric] = []
        for run_id in run_ids:
            out.extend(sample_evenly(per_run[run_id], max_results))
        return out

    def get_metric_history_downsampled(
        self, run_id, metric_key, max_buckets=1000, x_axis="step", x_min=None, x_max=None
    ):
        """Buckets computed in the database (see :mod:`headwater_store_sql.summaries`)."""
        with self.engine.connect() as conn:
            self._check_run_exists(conn, run_id)
            return summaries.downsampled_history(
                conn, run_id, metric_key, max_buckets, x_axis, x_min, x_max, engine=self.engine
            )

    def list_run_keys(self, experiment_ids, max_runs=1000):
        """Distinct keys of the most recent runs, in three DISTINCT queries."""
        with self.engine.connect() as conn:
            return summaries.run_keys(conn, sorted({_experiment_id(e) for e in experiment_ids}), max_runs)

    # -- search ----------------------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids,
        filter_string=None,
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=v.SEARCH_RUNS_MAX_RESULTS_DEFAULT,
        order_by=None,
        page_token=None,
    ) -> PagedList[Run]:
        from headwater.search import parse_filter, parse_order_by

        max_results = v.validate_max_results(
            max_results, v.SEARCH_RUNS_MAX_RESULTS_DEFAULT, v.SEARCH_MAX_RESULTS_LIMIT, "runs"
        )
        view = ViewType.parse(run_view_type)
        offset = decode_page_token(page_token)
        conditions = [searching.run_filter(c) for c in parse_filter(filter_string or "", "runs")]
        source, ordering = searching.run_order(parse_order_by(list(order_by or []), "runs"), self.dialect)
        exp_ids = sorted({_experiment_id(e) for e in experiment_ids or ()})
        if not exp_ids:
            return PagedList(items=[], token=None)
        query = (
            sa.select(runs)
            .select_from(source)
            .where(runs.c.experiment_id.in_(exp_ids), runs.c.lifecycle_stage.in_(view.stages), *conditions)
            .order_by(*ordering)
            .offset(offset)
            .limit(max_results + 1)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(items=self._load_runs(conn, rows[:max_results]), token=token)
