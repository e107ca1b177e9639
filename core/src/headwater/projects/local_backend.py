"""The built-in ``local`` project backend: the command runs here, as a child process.

Registered through the plugin manager like any installed backend
(``headwater plugins`` lists it), so a plugin can replace it by blocking
``headwater.projects.local_backend`` and providing its own ``local``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.plugins import hookimpl
from headwater.plugins.types import ProjectBackendProvider

if TYPE_CHECKING:
    from headwater.projects.backend import ProjectJob, SubmittedRun


class LocalBackend:
    """Runs the entry point on this machine; ``backend_config`` is not used."""

    def __init__(self, backend_config: dict[str, Any] | None = None):
        self.config = backend_config or {}

    def submit(self, job: "ProjectJob") -> "SubmittedRun":
        from headwater.projects.backend import ProcessRun, start_process

        run = ProcessRun(job.run_id, job.tracking_uri, start_process(job.prepare_process()))
        if not job.synchronous:
            run.watch_in_background()
        return run


@hookimpl
def headwater_project_backends():
    yield ProjectBackendProvider(name="local", factory=LocalBackend)
