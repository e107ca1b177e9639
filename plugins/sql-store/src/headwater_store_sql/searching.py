"""Compile parsed search filters and order_by keys into SQL.

Input is the parsed form from :mod:`headwater.search` (``Comparison`` and
``OrderKey``); output is WHERE and ORDER BY clauses for one query over
``runs`` or ``experiments``. Nothing is filtered or sorted in Python.

- Metric, param, tag and dataset conditions are correlated ``EXISTS``
  subqueries that hit the child tables' primary keys (metrics through
  ``latest_metrics``, never the history).
- Sorting outer-joins one aliased child table per key and ranks missing
  values (and NaN) after real ones in either direction, as MLflow does.
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from headwater.exceptions import HeadwaterError
from headwater.search.ast import Comparison, OrderKey
from headwater_store_sql.schema import (
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    params,
    run_inputs,
    runs,
    tags,
)

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"

_RUN_ATTRIBUTES = {
    "run_id": runs.c.run_id,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}
_EXPERIMENT_ATTRIBUTES = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}


def compare(column: ColumnElement, op: str, value) -> ColumnElement:
    """``column op value``; LIKE is case-sensitive through each connection's settings."""
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
        return column.ilike(value)
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    raise HeadwaterError.invalid(f"Invalid comparator '{op}'")


def _keyed_exists(table: sa.Table, owner: ColumnElement, key: str, *conditions: ColumnElement) -> ColumnElement:
    return sa.exists().where(table.c[owner.name] == owner, table.c.key == key, *conditions)


# -- runs ---------------------------------------------------------------------------


def run_filter(c: Comparison) -> ColumnElement:
    """The WHERE condition for one comparison of a runs filter."""
    if c.entity == "metric":
        value = float(c.value)  # type: ignore[arg-type]
        if c.op == "!=":
            # NaN differs from every number; the stored placeholder 0 must not count.
            condition = sa.or_(latest_metrics.c.value != value, latest_metrics.c.is_nan == sa.true())
        else:
            condition = sa.and_(compare(latest_metrics.c.value, c.op, value), latest_metrics.c.is_nan == sa.false())
        return _keyed_exists(latest_metrics, runs.c.run_id, c.key, condition)
    if c.entity in ("param", "tag"):
        table = params if c.entity == "param" else tags
        if c.op == "IS NULL":
            return ~_keyed_exists(table, runs.c.run_id, c.key)
        if c.op == "IS NOT NULL":
            return _keyed_exists(table, runs.c.run_id, c.key)
        return _keyed_exists(table, runs.c.run_id, c.key, compare(table.c.value, c.op, c.value))
    if c.entity == "dataset":
        return _dataset_filter(c)
    if c.entity == "attribute":
        if c.key == "run_name":
            # Answered through the tag, as MLflow does; the two are kept equal anyway.
            return _keyed_exists(tags, runs.c.run_id, RUN_NAME_TAG, compare(tags.c.value, c.op, c.value))
        column = _RUN_ATTRIBUTES.get(c.key)
        if column is not None:
            return compare(column, c.op, c.value)
    raise HeadwaterError.invalid(f"Invalid attribute key '{c.key}' specified.")


def _dataset_filter(c: Comparison) -> ColumnElement:
    if c.key == "context":
        return _keyed_exists(input_tags, runs.c.run_id, DATASET_CONTEXT_TAG, compare(input_tags.c.value, c.op, c.value))
    if c.key in ("name", "digest"):
        return (
            sa.select(sa.literal(1))
            .select_from(run_inputs.join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id))
            .where(run_inputs.c.run_id == runs.c.run_id, compare(datasets.c[c.key], c.op, c.value))
            .exists()
        )
    raise HeadwaterError.invalid(f"Invalid dataset key '{c.key}' specified.")


def _text_order(column: ColumnElement, dialect: str) -> ColumnElement:
    # PostgreSQL sorts text by the database locale; byte order matches the other backends.
    return sa.collate(column, "C") if dialect == "postgresql" else column


def run_order(keys: Sequence[OrderKey], dialect: str) -> tuple[sa.FromClause, list[ColumnElement]]:
    """The FROM clause (runs plus outer joins) and ORDER BY list for ``keys`` plus tie-breakers."""
    source: sa.FromClause = runs
    clauses: list[ColumnElement] = []
    named: set[str] = set()
    for index, key in enumerate(keys):
        if key.entity == "metric":
            joined = latest_metrics.alias(f"order_{index}")
            source = source.outerjoin(joined, sa.and_(joined.c.run_id == runs.c.run_id, joined.c.key == key.key))
            # Real values, then NaN, then runs without the metric, in both directions.
            rank = sa.case((joined.c.is_nan == sa.true(), 1), (joined.c.run_id.is_(None), 2), else_=0)
            clauses += [rank, joined.c.value if key.ascending else joined.c.value.desc()]
        elif key.entity in ("param", "tag"):
            joined = (params if key.entity == "param" else tags).alias(f"order_{index}")
            source = source.outerjoin(joined, sa.and_(joined.c.run_id == runs.c.run_id, joined.c.key == key.key))
            value = _text_order(joined.c.value, dialect)
            clauses += [sa.case((joined.c.value.is_(None), 1), else_=0), value if key.ascending else value.desc()]
        elif key.entity == "attribute" and key.key in _RUN_ATTRIBUTES:
            named.add(key.key)
            column = _RUN_ATTRIBUTES[key.key]
            if column.nullable:
                clauses.append(sa.case((column.is_(None), 1), else_=0))
            if isinstance(column.type, sa.String):
                column = _text_order(column, dialect)
            clauses.append(column if key.ascending else column.desc())
        else:
            raise HeadwaterError.invalid(f"Invalid order_by key '{key.entity}.{key.key}'")
    if "start_time" not in named:
        clauses.append(runs.c.start_time.desc())
    if "run_id" not in named:
        clauses.append(runs.c.run_id)
    return source, clauses


# -- experiments ------------------------------------------------------------------------


def experiment_filter(c: Comparison) -> ColumnElement:
    """The WHERE condition for one comparison of an experiments filter."""
    if c.entity == "tag":
        if c.op == "IS NULL":
            return ~_keyed_exists(experiment_tags, experiments.c.experiment_id, c.key)
        if c.op == "IS NOT NULL":
            return _keyed_exists(experiment_tags, experiments.c.experiment_id, c.key)
        return _keyed_exists(
            experiment_tags, experiments.c.experiment_id, c.key, compare(experiment_tags.c.value, c.op, c.value)
        )
    if c.entity == "attribute" and c.key in _EXPERIMENT_ATTRIBUTES:
        value = c.value
        if c.key == "experiment_id":
            value = tuple(_int_id(v) for v in value) if isinstance(value, tuple) else _int_id(value)
        elif c.key in ("creation_time", "last_update_time"):
            if isinstance(value, float) and not value.is_integer() or isinstance(value, (str, tuple)):
                raise HeadwaterError.invalid(f"Invalid value for numeric attribute '{c.key}': {str(value)!r}")
            value = int(value)  # type: ignore[arg-type]
        return compare(_EXPERIMENT_ATTRIBUTES[c.key], c.op, value)
    raise HeadwaterError.invalid(f"Invalid attribute key '{c.key}' specified.")


def _int_id(value) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise HeadwaterError.invalid(f"Invalid experiment ID '{value}'. Experiment IDs must be integers.")


def experiment_order(keys: Sequence[OrderKey], dialect: str) -> list[ColumnElement]:
    """ORDER BY for experiments: the default, or ``keys`` plus ``experiment_id DESC``."""
    if not keys:
        return [experiments.c.creation_time.desc(), experiments.c.experiment_id]
    clauses: list[ColumnElement] = []
    named_id = False
    for key in keys:
        column = _EXPERIMENT_ATTRIBUTES.get(key.key) if key.entity == "attribute" else None
        if column is None:
            raise HeadwaterError.invalid(f"Invalid order_by entity: {key.entity}")
        named_id |= key.key == "experiment_id"
        if isinstance(column.type, sa.String):
            column = _text_order(column, dialect)
        clauses.append(column if key.ascending else column.desc())
    if not named_id:
        clauses.append(experiments.c.experiment_id.desc())
    return clauses
