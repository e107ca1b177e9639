"""The registry conformance kit against the SQL registry store on SQLite, PostgreSQL and MariaDB.

Stores come from the installed ``sql_store`` plugin's registry hook, as the
server and client get them. SQLite gets a new database file per test; the
server backends share one database per session, emptied before each test.
"""

from __future__ import annotations

import pytest

from headwater.plugins.manager import make_plugin_manager, uri_scheme
from headwater.testing import RegistryStoreConformance


@pytest.fixture(scope="session")
def sql_registry_factory():
    manager = make_plugin_manager()
    providers = manager.registry_store_providers()

    def factory(uri: str):
        provider, record = providers[uri_scheme(uri)]
        assert record.distribution == "headwater-store-sql", record
        return provider.factory(uri)

    yield factory
    manager.close()


def _emptied(database_uri, factory):
    from headwater_store_sql.testing import reset_database

    reset_database(database_uri)
    return factory(database_uri)


class TestSqliteRegistryConformance(RegistryStoreConformance):
    @pytest.fixture
    def registry_store(self, sql_registry_factory, tmp_path):
        store = sql_registry_factory(f"sqlite:///{tmp_path / 'registry.db'}")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresRegistryConformance(RegistryStoreConformance):
    @pytest.fixture
    def registry_store(self, sql_registry_factory, postgres_database_uri):
        store = _emptied(postgres_database_uri, sql_registry_factory)
        yield store
        store.close()


@pytest.mark.mysql
class TestMysqlRegistryConformance(RegistryStoreConformance):
    @pytest.fixture
    def registry_store(self, sql_registry_factory, mysql_database_uri):
        store = _emptied(mysql_database_uri, sql_registry_factory)
        yield store
        store.close()
