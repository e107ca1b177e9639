"""The registry conformance kit against the REST registry store, through a live ``headwater server``."""

from __future__ import annotations

import pytest

from headwater.testing import RegistryStoreConformance
from headwater_store_rest import HttpConfig
from headwater_store_rest.registry import RestRegistryStore


class TestRestRegistryConformance(RegistryStoreConformance):
    @pytest.fixture
    def registry_store(self, rest_server):
        rest_server.reset()
        # No retry delays: a failure here is a bug to see, not a server to wait for.
        store = RestRegistryStore(rest_server.url, HttpConfig(max_retries=2, backoff_factor=0))
        yield store
        store.close()
