"""The registry-store conformance kit: one test class per area, combined.

Subclass :class:`RegistryStoreConformance` and override the ``registry_store``
fixture with one returning a registry store. Tests create models under unique
names, so the store may hold other data, but an empty one is the clearest. To
run one area only, subclass that area's class (e.g. :class:`AliasConformance`).
"""

from __future__ import annotations

from headwater.testing.registry_conformance.aliases import AliasConformance
from headwater.testing.registry_conformance.base import RegistryConformanceBase
from headwater.testing.registry_conformance.concurrency import RegistryConcurrencyConformance
from headwater.testing.registry_conformance.models import RegisteredModelConformance
from headwater.testing.registry_conformance.search import RegistrySearchConformance
from headwater.testing.registry_conformance.stages import StageConformance
from headwater.testing.registry_conformance.versions import ModelVersionConformance


class RegistryStoreConformance(
    RegisteredModelConformance,
    ModelVersionConformance,
    StageConformance,
    AliasConformance,
    RegistrySearchConformance,
    RegistryConcurrencyConformance,
):
    """Every registry conformance test against the ``registry_store`` fixture."""


__all__ = [
    "AliasConformance",
    "ModelVersionConformance",
    "RegisteredModelConformance",
    "RegistryConcurrencyConformance",
    "RegistryConformanceBase",
    "RegistrySearchConformance",
    "RegistryStoreConformance",
    "StageConformance",
]
