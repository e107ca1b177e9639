"""Fixtures for the SQL store tests: one database per backend per session, emptied per test."""

from __future__ import annotations

import os
import uuid

import pytest

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]


@pytest.fixture(scope="session")
def sqlite_database_uri(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sql_store') / 'tracking.db'}"


@pytest.fixture(params=BACKENDS)
def database_uri(request) -> str:
    """The session database of one backend (the root conftest creates the server ones)."""
    return request.getfixturevalue(f"{request.param}_database_uri")


@pytest.fixture
def store(database_uri, tmp_path):
    """A SQL store on an emptied database holding only the default experiment."""
    from headwater_store_sql.store import SqlTrackingStore
    from headwater_store_sql.testing import reset_database

    reset_database(database_uri)
    sql_store = SqlTrackingStore(database_uri, str(tmp_path / "artifacts"))
    yield sql_store
    sql_store.close()


@pytest.fixture(scope="session", autouse=True)
def _close_reset_engines():
    yield
    from headwater_store_sql.testing import dispose_engines

    dispose_engines()


# Same servers as the root conftest; these tests need databases of their own.
_ADMIN_URIS = {
    "postgresql": os.environ.get("HEADWATER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    "mysql": os.environ.get("HEADWATER_TEST_MYSQL_ADMIN", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


@pytest.fixture
def new_database(tmp_path):
    """``new_database(backend)``: the URI of a brand-new, empty database, dropped after the test."""
    import sqlalchemy

    created: list[tuple[str, str]] = []

    def make(backend: str) -> str:
        name = f"hw_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.db')}"
        engine = sqlalchemy.create_engine(_ADMIN_URIS[backend], isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            else:
                conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        engine.dispose()
        created.append((backend, name))
        url = sqlalchemy.engine.make_url(_ADMIN_URIS[backend]).set(database=name)
        return url.render_as_string(hide_password=False)

    yield make
    for backend, name in created:
        engine = sqlalchemy.create_engine(_ADMIN_URIS[backend], isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
    ]
)
def fresh_database_uri(request, new_database) -> str:
    """A brand-new, empty database on each backend in turn."""
    return new_database(request.param)
