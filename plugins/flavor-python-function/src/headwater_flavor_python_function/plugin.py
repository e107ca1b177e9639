"""Entry point of the ``flavor_python_function`` plugin (no heavy imports here)."""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import FlavorProvider


@hookimpl
def headwater_flavors() -> Iterator[FlavorProvider]:
    from headwater_flavor_python_function.flavor import PythonFunctionFlavor

    yield FlavorProvider(name=PythonFunctionFlavor.name, flavor=PythonFunctionFlavor())
