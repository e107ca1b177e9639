"""Database URIs and engines: drivers, SQLite pragmas, write transactions.

- ``postgresql://`` means psycopg 3 and ``mysql://`` means PyMySQL, whatever
  SQLAlchemy's own default driver would be.
- SQLite runs in WAL mode with a 30 s busy timeout, and write transactions
  start with ``BEGIN IMMEDIATE``: a writer takes the lock before it reads, so
  concurrent writers (threads or processes) queue on the busy timeout instead
  of failing with "database is locked" when a read lock cannot be upgraded.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_ARTIFACT_FOLDER = "headwater-artifacts"

# Execution option that makes the SQLite "begin" handler take the write lock.
WRITE_OPTION = "headwater_write"

_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}


def normalize_url(uri: str) -> URL:
    """The SQLAlchemy URL for a store URI, with Headwater's default drivers."""
    url = make_url(uri)
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if url.get_backend_name() in ("mysql", "mariadb") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def sqlite_file(url: URL) -> str | None:
    """The absolute path of a SQLite database file; None for in-memory databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in database:
        return None
    if database.startswith("file:"):
        database = urlsplit(database).path
    return os.path.abspath(database)


def default_artifact_root(uri: str) -> str:
    """Where artifacts go when no root is given: beside a SQLite file, else in the cwd."""
    path = sqlite_file(normalize_url(uri))
    base = os.path.dirname(path) if path else os.getcwd()
    return os.path.join(base, DEFAULT_ARTIFACT_FOLDER)


def create_engine(uri: str, **kwargs) -> Engine:
    """An engine for a store URI, configured for the backend."""
    url = normalize_url(uri)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, **kwargs)
    options: dict = {"pool_recycle": 3600}
    if backend == "postgresql":
        options.update(pool_size=10, max_overflow=20)
    options.update(pool_settings())
    options.update(kwargs)
    return sa.create_engine(url, **options)


# Connection-pool settings from the environment: HEADWATER_SQL_* first, then MLflow's names.
_POOL_SETTINGS = {
    "pool_size": ("HEADWATER_SQL_POOL_SIZE", "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"),
    "max_overflow": ("HEADWATER_SQL_MAX_OVERFLOW", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"),
    "pool_recycle": ("HEADWATER_SQL_POOL_RECYCLE", "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE"),
    "pool_timeout": ("HEADWATER_SQL_POOL_TIMEOUT", None),
}


def pool_settings(environ: dict | None = None) -> dict:
    """Pool options set in the environment (server databases only; SQLite keeps its own)."""
    env = os.environ if environ is None else environ
    out: dict = {}
    for option, names in _POOL_SETTINGS.items():
        for name in names:
            if name and env.get(name):
                try:
                    out[option] = int(env[name])
                except ValueError:
                    raise ValueError(f"{name} must be a whole number, got {env[name]!r}") from None
                break
    return out


def _sqlite_engine(url: URL, **kwargs) -> Engine:
    in_memory = sqlite_file(url) is None
    options: dict = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        # One shared connection, or every checkout would see a new empty database.
        options["poolclass"] = sa.pool.StaticPool
    options.update(kwargs)
    engine = sa.create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA case_sensitive_like = true")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def write_engine(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions are write transactions (same pool)."""
    return engine.execution_options(**{WRITE_OPTION: True})
