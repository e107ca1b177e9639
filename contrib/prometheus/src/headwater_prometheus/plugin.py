"""Entry point of the ``prometheus`` plugin: a server extension, active when enabled.

``HEADWATER_PROMETHEUS=1`` (or ``true``) turns it on; otherwise installing
the distribution changes nothing.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import ServerExtension

ENABLE_ENV = "HEADWATER_PROMETHEUS"


def install(app: Any) -> None:
    if os.environ.get(ENABLE_ENV, "").strip().lower() not in ("1", "true", "yes", "on"):
        return
    from headwater_prometheus.exporter import install_exporter

    install_exporter(app)


@hookimpl
def headwater_server_extensions() -> Iterator[ServerExtension]:
    yield ServerExtension(name="prometheus", install=install)
