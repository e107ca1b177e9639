"""Test helpers for Headwater plugin authors (needs pytest; core does not import it).

``TrackingStoreConformance`` is the store conformance kit: subclass it in a
test module and override the ``tracking_store`` fixture::

    from headwater.testing import TrackingStoreConformance

    class TestMyStore(TrackingStoreConformance):
        @pytest.fixture
        def tracking_store(self, tmp_path):
            return MyStore(...)

``RegistryStoreConformance`` does the same for registry stores (override
``registry_store``). ``ArtifactRepositoryConformance`` checks artifact
repositories (override ``artifact_repository``, and ``outside_root_repository``
for the containment checks of the attack tests).

Plugin-manager fixtures come with the pytest plugin
(:mod:`headwater.testing.pytest_plugin`), loaded automatically once
``headwater`` is installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ArtifactRepositoryConformance", "RegistryStoreConformance", "TrackingStoreConformance"]


def __getattr__(name: str) -> Any:
    # Lazy, so that loading the pytest plugin does not import the whole kit.
    if name == "TrackingStoreConformance":
        from headwater.testing.conformance import TrackingStoreConformance

        return TrackingStoreConformance
    if name == "RegistryStoreConformance":
        from headwater.testing.registry_conformance import RegistryStoreConformance

        return RegistryStoreConformance
    if name == "ArtifactRepositoryConformance":
        from headwater.testing.artifact_conformance import ArtifactRepositoryConformance

        return ArtifactRepositoryConformance
    raise AttributeError(f"module 'headwater.testing' has no attribute {name!r}")
