"""Fixtures for the SQL store tests: one database per backend per session, emptied per test."""

from __future__ import annotations

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
