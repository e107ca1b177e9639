"""Entry point of the ``flavor_xgboost`` plugin (xgboost loads only when a model does)."""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import FlavorProvider


@hookimpl
def headwater_flavors() -> Iterator[FlavorProvider]:
    from headwater_flavor_xgboost.flavor import XGBoostFlavor

    yield FlavorProvider(name=XGBoostFlavor.name, flavor=XGBoostFlavor())
