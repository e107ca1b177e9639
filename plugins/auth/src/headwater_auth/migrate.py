"""Migrating the auth tables: Alembic, run programmatically under a database-wide lock.

Several server processes may start against one database at once; the upgrade
runs under a lock the database holds (a PostgreSQL advisory lock, MySQL's
``GET_LOCK``, SQLite's write lock), so whoever comes second finds the tables
current and does nothing. The chain has its own version table
(``headwater_auth_alembic_version``) and never touches the tracking store's.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater_store_sql.engine import create_engine, write_engine

from headwater_auth.schema import VERSION_TABLE

HEAD_REVISION = "a0001"  # the newest revision in migrations/versions (a test keeps them equal)

_LOCK_NAME = "headwater_auth_migration"
_PG_LOCK_KEY = 0x4857_4155  # arbitrary, fixed: "HWAU"
_MYSQL_LOCK_TIMEOUT_S = 300


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except sa.exc.DBAPIError:
        return None


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    dialect = engine.dialect.name
    if dialect == "sqlite":
        with write_engine(engine).begin() as conn:  # BEGIN IMMEDIATE
            yield conn
        return
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            unlock = sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY}
        elif dialect in ("mysql", "mariadb"):
            got = conn.execute(sa.text("SELECT GET_LOCK(:name, :timeout)"),
                               {"name": _LOCK_NAME, "timeout": _MYSQL_LOCK_TIMEOUT_S}).scalar()
            if got != 1:
                raise HeadwaterError("Timed out waiting for another process to migrate the auth tables",
                                     ErrorCode.TEMPORARILY_UNAVAILABLE)
            unlock = sa.text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME}
        else:
            with conn.begin():
                yield conn
            return
        conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.execute(*unlock)
            conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the auth tables to ``revision``; cheap when they are current."""
    if revision == "head" and current_revision(engine) == HEAD_REVISION:
        return HEAD_REVISION
    from alembic import command
    from alembic.config import Config

    with _migration_lock(engine) as conn:
        config = Config()
        config.set_main_option("script_location", "headwater_auth:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(engine)


def upgrade_auth_database(uri: str, revision: str = "head") -> str | None:
    """Migrate the auth tables of the database at ``uri`` (``headwater auth db-upgrade``)."""
    engine = create_engine(uri)
    try:
        return upgrade(engine, revision)
    finally:
        engine.dispose()
