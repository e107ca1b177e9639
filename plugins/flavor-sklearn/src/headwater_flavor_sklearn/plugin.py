"""Entry point of the ``flavor_sklearn`` plugin (scikit-learn loads only when a model does)."""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import FlavorProvider


@hookimpl
def headwater_flavors() -> Iterator[FlavorProvider]:
    from headwater_flavor_sklearn.flavor import SklearnFlavor

    yield FlavorProvider(name=SklearnFlavor.name, flavor=SklearnFlavor())
