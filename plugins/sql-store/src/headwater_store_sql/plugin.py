"""Entry point of the ``sql_store`` plugin: tracking and registry stores for database URIs.

Kept free of heavy imports: SQLAlchemy loads only when a store is built.
"""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import RegistryStoreProvider, TrackingStoreProvider

SCHEMES = ("sqlite", "postgresql", "mysql")


def make_store(store_uri: str, artifact_uri: str | None = None):
    from headwater_store_sql.store import SqlTrackingStore

    return SqlTrackingStore(store_uri, artifact_uri)


@hookimpl
def headwater_tracking_stores() -> Iterator[TrackingStoreProvider]:
    yield TrackingStoreProvider(name="sql", schemes=SCHEMES, factory=make_store)


def make_registry_store(store_uri: str):
    from headwater_store_sql.registry_store import SqlRegistryStore

    return SqlRegistryStore(store_uri)


@hookimpl
def headwater_registry_stores() -> Iterator[RegistryStoreProvider]:
    yield RegistryStoreProvider(name="sql", schemes=SCHEMES, factory=make_registry_store)
