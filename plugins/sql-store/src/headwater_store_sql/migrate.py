"""Schema migrations: Alembic, run programmatically under a database-wide lock.

A store brings its database to the current schema the first time it opens it,
and ``headwater db upgrade`` does the same on demand. Several processes may
start against a fresh database at once, so the upgrade runs under a lock
that the database itself holds: a PostgreSQL advisory lock, MySQL's
``GET_LOCK``, or SQLite's write lock (``BEGIN IMMEDIATE``). Whoever gets the
lock second finds the schema already current and does nothing.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater_store_sql.engine import create_engine, sqlite_file, write_engine
from headwater_store_sql.schema import VERSION_TABLE

# The newest revision in migrations/versions (a test keeps the two equal), so
# that opening a current database costs one query and no Alembic import.
HEAD_REVISION = "0004"

_LOCK_NAME = "headwater_schema_migration"
_PG_LOCK_KEY = 0x4857_5343  # arbitrary, fixed: "HWSC"
_MYSQL_LOCK_TIMEOUT_S = 300

_verified: set[str] = set()
_verified_lock = threading.Lock()


def current_revision(conn: Connection) -> str | None:
    """The schema revision recorded in the database; None if it has no schema yet."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _fast_revision(engine: Engine) -> str | None:
    """The recorded revision in one query; None when the version table is missing."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except sa.exc.DBAPIError:
        return None


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction, holding the database-wide migration lock."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        with write_engine(engine).begin() as conn:  # BEGIN IMMEDIATE
            yield conn
        return
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            conn.commit()
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                conn.commit()
        elif dialect in ("mysql", "mariadb"):
            got = conn.execute(
                sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": _LOCK_NAME, "timeout": _MYSQL_LOCK_TIMEOUT_S}
            ).scalar()
            if got != 1:
                raise HeadwaterError(
                    f"Timed out after {_MYSQL_LOCK_TIMEOUT_S} s waiting for another process to migrate the database",
                    ErrorCode.TEMPORARILY_UNAVAILABLE,
                )
            conn.commit()
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
                conn.commit()
        else:
            with conn.begin():
                yield conn


def _refuse_foreign_schema(conn: Connection) -> None:
    """Stop before creating tables over a database that another tool owns (e.g. MLflow)."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(VERSION_TABLE) and inspector.has_table("experiments"):
        raise HeadwaterError(
            "This database already holds tables that Headwater did not create (an MLflow tracking"
            " database?). Headwater's SQL store uses its own schema: point it at a new database.",
            ErrorCode.INVALID_STATE,
        )


def _alembic_config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "headwater_store_sql:migrations")
    config.attributes["connection"] = conn
    return config


def _upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with _migration_lock(engine) as conn:
        _refuse_foreign_schema(conn)
        command.upgrade(_alembic_config(conn), revision)


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the current schema once per process (cheap when current)."""
    if engine.dialect.name == "sqlite" and sqlite_file(engine.url) is None:
        # Every in-memory engine is a database of its own.
        if _fast_revision(engine) != HEAD_REVISION:
            _upgrade(engine)
        return
    key = engine.url.render_as_string(hide_password=False)
    if key in _verified:
        return
    with _verified_lock:
        if key in _verified:
            return
        revision = _fast_revision(engine)
        if revision != HEAD_REVISION:
            _upgrade(engine)
        _verified.add(key)


def upgrade_database(uri: str, revision: str = "head") -> str | None:
    """Migrate the database at ``uri`` to ``revision`` (default: the newest) and return it.

    Idempotent and safe to run from several processes at once; this is what
    ``headwater db upgrade`` calls.
    """
    engine = create_engine(uri)
    try:
        _upgrade(engine, revision)
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def forget_verified() -> None:
    """Make the next store open re-check its schema (tests that drop tables use this)."""
    with _verified_lock:
        _verified.clear()
