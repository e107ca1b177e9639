"""Shared fixtures: one throw-away database per test session on each backend.

Every session (and every xdist worker) gets databases of its own, named after
the process, so concurrent runs on one machine never collide. Tests reset the
tables they use rather than creating a database per test (that would be slow).
"""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

PG_ADMIN_URI = os.environ.get("HEADWATER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URI = os.environ.get("HEADWATER_TEST_MYSQL_ADMIN", "mysql+pymysql://root@127.0.0.1:3306/test")


def _unique_db_name(prefix: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{os.getpid()}_{worker}_{uuid.uuid4().hex[:6]}"


def _admin_engine(uri: str):
    import sqlalchemy

    return sqlalchemy.create_engine(uri, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def postgres_database_uri():
    """URI of a fresh PostgreSQL database for this session; dropped afterwards."""
    import sqlalchemy

    name = _unique_db_name("hw")
    try:
        engine = _admin_engine(PG_ADMIN_URI)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URI}: {exc}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def mysql_database_uri():
    """URI of a fresh MariaDB/MySQL database for this session; dropped afterwards."""
    import sqlalchemy

    name = _unique_db_name("hw")
    try:
        engine = _admin_engine(MYSQL_ADMIN_URI)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"MariaDB is not reachable at {MYSQL_ADMIN_URI}: {exc}")
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS `{name}`"))
    engine.dispose()
