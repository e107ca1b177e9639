"""The model-registry store interface (implemented by registry-store plugins).

Only the contract lives here; the SQL and REST stores implement it. Entities
for registered models and versions arrive with the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class RegistryStore(ABC):
    """Abstract registry store: registered models, versions, stages, aliases."""

    @abstractmethod
    def create_registered_model(self, name: str, tags: Any = None, description: str | None = None) -> Any:
        """Create a registered model; RESOURCE_ALREADY_EXISTS if the name is taken."""

    @abstractmethod
    def get_registered_model(self, name: str) -> Any:
        """The registered model; RESOURCE_DOES_NOT_EXIST if unknown."""

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
