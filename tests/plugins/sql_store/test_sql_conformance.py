"""The core conformance kit against the SQL store, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest

from headwater.testing import TrackingStoreConformance


class TestSqlStoreConformance(TrackingStoreConformance):
    @pytest.fixture
    def tracking_store(self, store):
        return store
