"""Headwater plugin: the ``pool`` project backend.

``headwater run URI --backend pool --backend-config '{"workers": 2}'`` queues
the entry point in a pool of worker slots shared by every run this process
submits: at most ``workers`` commands run at once, the rest wait with status
SCHEDULED. Only hook implementations live here; the backend itself is
imported when a run asks for it.
"""

from __future__ import annotations

from headwater.plugins import hookimpl
from headwater.plugins.types import ProjectBackendProvider


def _pool_backend(backend_config):
    from headwater_project_backend_pool.pool import PoolBackend

    return PoolBackend(backend_config)


@hookimpl
def headwater_project_backends():
    yield ProjectBackendProvider(name="pool", factory=_pool_backend)
