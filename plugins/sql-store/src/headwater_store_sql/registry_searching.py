"""Compile registry search filters and order_by keys (search-grammar.md §4–§5) into SQL.

Input is the parsed form from :mod:`headwater.search`; output is WHERE and
ORDER BY clauses over ``registered_models`` (alone, or joined to
``model_versions``). Tag conditions are correlated ``EXISTS`` subqueries on the
tag tables' primary keys.

Prompts are registered models tagged ``mlflow.prompt.is_prompt = 'true'``.
Model searches hide them unless the filter asks for that tag (a model without
the tag counts as ``'false'``); version searches always hide them.
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from headwater.exceptions import HeadwaterError
from headwater.registry.validation import PROMPT_TAG
from headwater.search.ast import Comparison, OrderKey
from headwater_store_sql.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from headwater_store_sql.searching import compare

_MODEL_ORDER = {"name": registered_models.c.name, "last_updated_timestamp": registered_models.c.last_updated_time}
_VERSION_ATTRIBUTES = {
    "name": registered_models.c.name,
    "run_id": model_versions.c.run_id,
    "source_path": model_versions.c.source,
    "version_number": model_versions.c.version,
}
_VERSION_ORDER = {
    "name": registered_models.c.name,
    "version_number": model_versions.c.version,
    "creation_timestamp": model_versions.c.creation_time,
    "last_updated_timestamp": model_versions.c.last_updated_time,
}


def _text_order(column: ColumnElement, dialect: str) -> ColumnElement:
    # PostgreSQL sorts text by the database locale; byte order matches the other backends.
    return sa.collate(column, "C") if dialect == "postgresql" else column


def _prompt_flag() -> ColumnElement:
    """The model's prompt tag value, 'false' when it has none."""
    value = (
        sa.select(registered_model_tags.c.value)
        .where(
            registered_model_tags.c.registered_model_id == registered_models.c.id,
            registered_model_tags.c.key == PROMPT_TAG,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(value, "false")


def not_prompt() -> ColumnElement:
    return sa.func.lower(_prompt_flag()) != "true"


def _model_tag(c: Comparison) -> ColumnElement:
    if c.key == PROMPT_TAG:
        return compare(_prompt_flag(), c.op, c.value)
    return sa.exists().where(
        registered_model_tags.c.registered_model_id == registered_models.c.id,
        registered_model_tags.c.key == c.key,
        compare(registered_model_tags.c.value, c.op, c.value),
    )


def model_filter(comparisons: Sequence[Comparison]) -> list[ColumnElement]:
    """WHERE conditions of a registered-model search, prompts hidden unless asked for."""
    conditions: list[ColumnElement] = []
    for c in comparisons:
        if c.entity == "tag":
            conditions.append(_model_tag(c))
        elif c.entity == "attribute" and c.key == "name":
            conditions.append(compare(registered_models.c.name, c.op, c.value))
        else:
            raise HeadwaterError.invalid(f"Invalid attribute key '{c.key}' specified.")
    if not any(c.entity == "tag" and c.key == PROMPT_TAG for c in comparisons):
        conditions.append(not_prompt())
    return conditions


def model_order(keys: Sequence[OrderKey], dialect: str) -> list[ColumnElement]:
    """ORDER BY for models: ``keys``, then ``name ASC`` unless named."""
    clauses: list[ColumnElement] = []
    named = False
    for key in keys:
        column = _MODEL_ORDER.get(key.key) if key.entity == "attribute" else None
        if column is None:
            raise HeadwaterError.invalid(
                f"Invalid order by key '{key.key}' specified. Valid keys are 'name', 'timestamp' and"
                " 'last_updated_timestamp'."
            )
        named |= key.key == "name"
        if isinstance(column.type, sa.String):
            column = _text_order(column, dialect)
        clauses.append(column if key.ascending else column.desc())
    if not named:
        clauses.append(_text_order(registered_models.c.name, dialect))
    return clauses


def version_filter(comparisons: Sequence[Comparison]) -> list[ColumnElement]:
    """WHERE conditions of a model-version search (over versions joined to their models)."""
    conditions: list[ColumnElement] = []
    for c in comparisons:
        if c.entity == "tag":
            conditions.append(
                sa.exists().where(
                    model_version_tags.c.registered_model_id == model_versions.c.registered_model_id,
                    model_version_tags.c.version == model_versions.c.version,
                    model_version_tags.c.key == c.key,
                    compare(model_version_tags.c.value, c.op, c.value),
                )
            )
        elif c.entity == "attribute" and c.key in _VERSION_ATTRIBUTES:
            conditions.append(compare(_VERSION_ATTRIBUTES[c.key], c.op, c.value))
        else:
            raise HeadwaterError.invalid(f"Invalid attribute key '{c.key}' specified.")
    return conditions


def version_order(keys: Sequence[OrderKey], dialect: str) -> list[ColumnElement]:
    """ORDER BY for versions; default ``last_updated_timestamp DESC``; then ``name ASC``, ``version DESC``."""
    if not keys:
        keys = [OrderKey("attribute", "last_updated_timestamp", ascending=False)]
    clauses: list[ColumnElement] = []
    named: set[str] = set()
    for key in keys:
        column = _VERSION_ORDER.get(key.key) if key.entity == "attribute" else None
        if column is None:
            raise HeadwaterError.invalid(f"Invalid order by key '{key.key}' specified.")
        named.add(key.key)
        if isinstance(column.type, sa.String):
            column = _text_order(column, dialect)
        clauses.append(column if key.ascending else column.desc())
    if "name" not in named:
        clauses.append(_text_order(registered_models.c.name, dialect))
    if "version_number" not in named:
        clauses.append(model_versions.c.version.desc())
    return clauses
