"""Entry point of the ``rest_store`` plugin.

Claims ``http``/``https`` tracking and registry URIs, and ``mlflow-artifacts`` plus
``http``/``https`` artifact URIs (a server's artifact proxy).
"""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import ArtifactRepositoryProvider, RegistryStoreProvider, TrackingStoreProvider


def _rest_store(store_uri: str, artifact_uri: str | None):
    from headwater_store_rest.store import RestStore

    return RestStore(store_uri)  # the server chooses artifact locations


def _proxy_repository(artifact_uri: str):
    from headwater_store_rest.artifacts import ProxyArtifactRepository

    return ProxyArtifactRepository(artifact_uri)


@hookimpl
def headwater_tracking_stores() -> Iterator[TrackingStoreProvider]:
    yield TrackingStoreProvider(name="rest", schemes=("http", "https"), factory=_rest_store)


@hookimpl
def headwater_artifact_repositories() -> Iterator[ArtifactRepositoryProvider]:
    yield ArtifactRepositoryProvider(
        name="artifact-proxy", schemes=("mlflow-artifacts", "http", "https"), factory=_proxy_repository
    )


def _rest_registry(registry_uri: str):
    from headwater_store_rest.registry import RestRegistryStore

    return RestRegistryStore(registry_uri)


@hookimpl
def headwater_registry_stores() -> Iterator[RegistryStoreProvider]:
    yield RegistryStoreProvider(name="rest", schemes=("http", "https"), factory=_rest_registry)
