"""Helpers for tests that run against a SQL store database.

``reset_database(uri)`` empties every table of the schema (tracking, logged
models, registry; creating the schema first if needed) and puts back the
default experiment, active, named "Default" and with its artifact location,
so one database can serve a whole test session.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from headwater.store.tracking import DEFAULT_EXPERIMENT_NAME
from headwater_store_sql import dialects
from headwater_store_sql.engine import create_engine, write_engine
from headwater_store_sql.migrate import ensure_schema
from headwater_store_sql.schema import datasets, experiments, metadata

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _engine(uri: str) -> Engine:
    with _lock:
        if uri not in _engines:
            _engines[uri] = create_engine(uri)
        return _engines[uri]


def reset_database(uri: str) -> None:
    """Delete every row of the tables; the default experiment stays (active, named "Default", no tags).

    New experiment ids start from 1 again on SQLite and PostgreSQL; MySQL keeps
    counting (resetting AUTO_INCREMENT is DDL, slow, and waits for every open
    transaction on the table).
    """
    engine = _engine(uri)
    ensure_schema(engine)
    dialect = engine.dialect.name
    with write_engine(engine).begin() as conn:
        default = conn.execute(sa.select(experiments).where(experiments.c.experiment_id == 0)).first()
        for table in reversed(metadata.sorted_tables):  # children first
            conn.execute(sa.delete(table))
        if dialect == "postgresql":
            for table, column in ((experiments, "experiment_id"), (datasets, "dataset_id")):
                conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence(:table, :column), 1, false)"),
                    {"table": table.name, "column": column},
                )
        if default is not None:
            row = {**default._mapping, "name": DEFAULT_EXPERIMENT_NAME, "lifecycle_stage": "active"}
            dialects.insert_with_explicit_id(conn, dialect, experiments, row)


def dispose_engines() -> None:
    """Close the connections reset_database keeps open."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
