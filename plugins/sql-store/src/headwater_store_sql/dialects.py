"""Upserts in each backend's own syntax.

SQLite and PostgreSQL share ``INSERT ... ON CONFLICT``; MySQL and MariaDB use
``INSERT ... ON DUPLICATE KEY UPDATE``. Statements are built once per store and
reused, so SQLAlchemy's compiled-statement cache serves every later call.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

_ON_CONFLICT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def is_mysql(dialect: str) -> bool:
    return dialect in ("mysql", "mariadb")


def _insert(dialect: str, table: sa.Table):
    if is_mysql(dialect):
        return mysql.insert(table)
    if dialect in _ON_CONFLICT:
        return _ON_CONFLICT[dialect](table)
    raise NotImplementedError(f"the SQL tracking store does not support the {dialect!r} dialect")


def insert_ignore(dialect: str, table: sa.Table, select: sa.Select | None = None, columns=None):
    """INSERT that silently skips rows whose key already exists.

    With ``select``, the rows come from ``INSERT ... SELECT`` (``columns`` names
    the target columns).
    """
    stmt = _insert(dialect, table)
    if select is not None:
        stmt = stmt.from_select(columns, select)
    if is_mysql(dialect):
        # A no-op assignment, unlike INSERT IGNORE, which would also hide real errors.
        first = table.primary_key.columns.values()[0]
        return stmt.on_duplicate_key_update({first.name: first})
    return stmt.on_conflict_do_nothing()


def upsert(dialect: str, table: sa.Table, update: tuple[str, ...]):
    """INSERT, or on a key conflict overwrite the ``update`` columns."""
    stmt = _insert(dialect, table)
    if is_mysql(dialect):
        return stmt.on_duplicate_key_update({name: stmt.inserted[name] for name in update})
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(index_elements=keys, set_={name: stmt.excluded[name] for name in update})


def upsert_latest_metric(dialect: str, table: sa.Table):
    """INSERT a latest point, or replace the stored one if the new one is greater.

    "Greater" compares (step, timestamp, value), NaN being stored as value 0.
    """
    stmt = _insert(dialect, table)
    if is_mysql(dialect):
        new = stmt.inserted
        newer = sa.tuple_(new.step, new.timestamp, new.value) > sa.tuple_(table.c.step, table.c.timestamp, table.c.value)
        # MySQL applies the assignments left to right, each seeing the columns
        # already assigned. In this order the test still gives the right answer:
        # is_nan and value first (test on the old row), then timestamp and
        # step, whose test changes only where the old and new ones are equal.
        return stmt.on_duplicate_key_update(
            [(name, sa.func.IF(newer, new[name], table.c[name])) for name in ("is_nan", "value", "timestamp", "step")]
        )
    new = stmt.excluded
    newer = sa.tuple_(new.step, new.timestamp, new.value) > sa.tuple_(table.c.step, table.c.timestamp, table.c.value)
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={name: new[name] for name in ("value", "is_nan", "timestamp", "step")},
        where=newer,
    )


def insert_with_explicit_id(conn, dialect: str, table: sa.Table, row: dict) -> None:
    """Insert a row whose autoincrement key is given (0 included), skipping it if it exists."""
    if not is_mysql(dialect):
        conn.execute(insert_ignore(dialect, table), row)
        return
    # MySQL reads an explicit 0 in an AUTO_INCREMENT column as "the next id" unless told not to.
    mode = conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar()
    conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    try:
        conn.execute(insert_ignore(dialect, table), row)
    finally:
        conn.execute(sa.text("SET SESSION sql_mode = :mode"), {"mode": mode})
