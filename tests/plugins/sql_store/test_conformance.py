"""The tracking-store conformance kit against the SQL store on SQLite, PostgreSQL and MariaDB.

Stores come from the installed ``sql_store`` plugin through the plugin manager,
as the server and client get them, so the entry point is exercised too.
SQLite gets a new database file per test; the server backends share one
database per session, emptied before each test.
"""

from __future__ import annotations

import pytest
from headwater.plugins.manager import make_plugin_manager, uri_scheme
from headwater.testing import TrackingStoreConformance


@pytest.fixture(scope="session")
def sql_store_factory():
    """``factory(uri, artifact_root)`` of the SQL store plugin, found like any installed plugin."""
    manager = make_plugin_manager()
    providers = manager.tracking_store_providers()

    def factory(uri: str, artifact_root: str):
        provider, record = providers[uri_scheme(uri)]
        assert record.distribution == "headwater-store-sql", record
        return provider.factory(uri, artifact_root)

    yield factory
    manager.close()


def _store_on(database_uri, factory, tmp_path):
    from headwater_store_sql.testing import reset_database

    reset_database(database_uri)
    store = factory(database_uri, (tmp_path / "artifacts").as_uri())
    return store


class TestSqliteConformance(TrackingStoreConformance):
    @pytest.fixture
    def tracking_store(self, sql_store_factory, tmp_path):
        store = sql_store_factory(f"sqlite:///{tmp_path / 'tracking.db'}", (tmp_path / "artifacts").as_uri())
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresConformance(TrackingStoreConformance):
    @pytest.fixture
    def tracking_store(self, sql_store_factory, postgres_database_uri, tmp_path):
        store = _store_on(postgres_database_uri, sql_store_factory, tmp_path)
        yield store
        store.close()


@pytest.mark.mysql
class TestMysqlConformance(TrackingStoreConformance):
    @pytest.fixture
    def tracking_store(self, sql_store_factory, mysql_database_uri, tmp_path):
        store = _store_on(mysql_database_uri, sql_store_factory, tmp_path)
        yield store
        store.close()
