"""The memory store against Headwater's store conformance kit."""

import pytest

from headwater.testing import TrackingStoreConformance
from headwater_store_memory.store import MemoryTrackingStore


class TestMemoryStore(TrackingStoreConformance):
    @pytest.fixture
    def tracking_store(self, tmp_path):
        return MemoryTrackingStore("memory://test", str(tmp_path / "artifacts"))


def test_plugin_is_found_through_its_entry_point():
    from headwater.plugins.manager import make_plugin_manager

    manager = make_plugin_manager()
    store = manager.tracking_store("memory://entry-point-test")
    assert isinstance(store, MemoryTrackingStore)
    assert manager.records["store_memory"].distribution == "headwater-store-memory"
