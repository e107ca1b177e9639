"""Store and repository interfaces that plugins implement."""

from headwater.store.artifacts import ArtifactRepository, safe_relative_path
from headwater.store.registry import RegistryStore
from headwater.store.tracking import TrackingStore

__all__ = ["ArtifactRepository", "RegistryStore", "TrackingStore", "safe_relative_path"]
