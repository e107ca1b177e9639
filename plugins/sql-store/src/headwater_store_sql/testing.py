"""Helpers for tests that run against a SQL store database.

``reset_database(uri)`` empties every table of the tracking schema (creating
the schema first if needed) and puts back the default experiment as it was,
so one database can serve a whole test session. Ids start again from 1.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from headwater_store_sql import dialects
from headwater_store_sql.engine import create_engine, write_engine
from headwater_store_sql.migrate import ensure_schema
from headwater_store_sql.schema import TABLES_CHILDREN_FIRST, datasets, experiments

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _engine(uri: str) -> Engine:
    with _lock:
        if uri not in _engines:
            _engines[uri] = create_engine(uri)
        return _engines[uri]


def reset_database(uri: str) -> None:
    """Delete every row of the tracking tables except the default experiment's."""
    engine = _engine(uri)
    ensure_schema(engine)
    dialect = engine.dialect.name
    with write_engine(engine).begin() as conn:
        default = conn.execute(sa.select(experiments).where(experiments.c.experiment_id == 0)).first()
        if dialect == "postgresql":
            names = ", ".join(t.name for t in TABLES_CHILDREN_FIRST)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in TABLES_CHILDREN_FIRST:
                conn.execute(sa.delete(table))
        if default is not None:
            dialects.insert_with_explicit_id(conn, dialect, experiments, dict(default._mapping))
    if dialects.is_mysql(dialect):
        with engine.begin() as conn:  # DDL: commits on its own in MySQL
            for table in (experiments, datasets):
                conn.exec_driver_sql(f"ALTER TABLE {table.name} AUTO_INCREMENT = 1")


def dispose_engines() -> None:
    """Close the connections reset_database keeps open."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
