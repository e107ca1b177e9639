"""The core conformance kit against the REST store, through a live ``headwater server``."""

from __future__ import annotations

import pytest

from headwater.testing import TrackingStoreConformance
from headwater_store_rest import HttpConfig, RestStore


class TestRestStoreConformance(TrackingStoreConformance):
    @pytest.fixture
    def tracking_store(self, rest_server):
        rest_server.reset()
        # No retry delays: a failure here is a bug to see, not a server to wait for.
        store = RestStore(rest_server.url, HttpConfig(max_retries=2, backoff_factor=0))
        yield store
        store.close()
