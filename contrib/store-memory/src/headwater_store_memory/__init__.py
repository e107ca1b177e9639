"""Plugin module: only hook implementations, heavy imports deferred to the factory."""

from headwater.plugins import hookimpl
from headwater.plugins.types import TrackingStoreProvider


def _build(store_uri: str, artifact_uri: str | None):
    from headwater_store_memory.store import MemoryTrackingStore

    return MemoryTrackingStore(store_uri, artifact_uri)


@hookimpl
def headwater_tracking_stores():
    yield TrackingStoreProvider(name="memory", schemes=("memory",), factory=_build)
