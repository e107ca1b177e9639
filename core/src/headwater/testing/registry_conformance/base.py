"""What every registry conformance module shares: the fixture to override and small helpers."""

from __future__ import annotations

import pytest

from headwater.exceptions import ErrorCode
from headwater.store.registry import RegistryStore
from headwater.testing.conformance.base import raises_code, unique_name

__all__ = ["ErrorCode", "RegistryConformanceBase", "all_model_names", "raises_code", "unique_name"]


class RegistryConformanceBase:
    """Fixtures used by every registry conformance test. Override ``registry_store``."""

    @pytest.fixture
    def registry_store(self) -> RegistryStore:
        pytest.fail(
            "Override the `registry_store` fixture in your RegistryStoreConformance subclass:"
            " it must return a registry store (an empty one is best; tests use unique names)."
        )

    @pytest.fixture
    def model_name(self, registry_store: RegistryStore) -> str:
        """A new registered model with no versions."""
        return registry_store.create_registered_model(unique_name("model")).name

    @staticmethod
    def add_versions(store: RegistryStore, name: str, count: int, **fields) -> list[str]:
        """Create ``count`` versions of ``name`` (S3 sources need no run); returns their numbers."""
        return [store.create_model_version(name, f"s3://bucket/{name}/{i}", **fields).version for i in range(count)]


def all_model_names(store: RegistryStore) -> list[str]:
    """Every registered model's name, all pages collected."""
    out: list[str] = []
    token = None
    while True:
        page = store.search_registered_models(max_results=1000, page_token=token)
        out.extend(m.name for m in page)
        token = page.token
        if not token:
            return sorted(out)
