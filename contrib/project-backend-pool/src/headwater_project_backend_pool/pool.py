"""A project backend that runs commands in a bounded pool of worker threads.

Each worker slot prepares the job's environment and supervises its command as
a child process with the core's :class:`~headwater.projects.backend.ProcessRun`,
so the run ends FINISHED, FAILED or KILLED exactly as with the local backend.
Pools are shared per size within a process, so many asynchronous
``headwater.projects.run(..., backend="pool", synchronous=False)`` calls queue
behind each other.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from headwater.entities import RunStatus
from headwater.projects import ProjectError
from headwater.projects.backend import ProcessRun, ProjectJob, SubmittedRun, record_status, start_process

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def shared_pool(workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="headwater-pool")
        return _pools[workers]


class PoolRun(SubmittedRun):
    """A run waiting for, or holding, a worker slot."""

    def __init__(self, job: ProjectJob):
        self.run_id = job.run_id
        self.job = job
        self.future: Future[RunStatus] | None = None
        self.process_run: ProcessRun | None = None
        self._cancelled = threading.Event()

    def work(self) -> RunStatus:
        """Runs in a worker thread: prepare, start, supervise."""
        from headwater.tracking.client import Client

        if self._cancelled.is_set():
            return RunStatus.KILLED
        job = self.job
        try:
            Client(job.tracking_uri).update_run(job.run_id, status=RunStatus.RUNNING)
            process = start_process(job.prepare_process())
        except Exception as exc:
            record_status(job.tracking_uri, job.run_id, RunStatus.FAILED, str(exc))
            return RunStatus.FAILED
        self.process_run = ProcessRun(job.run_id, job.tracking_uri, process)
        if self._cancelled.is_set():  # cancelled while starting
            self.process_run.cancel()
        self.process_run.wait()
        return self.process_run.get_status()

    def wait(self) -> bool:
        assert self.future is not None
        try:
            return self.future.result() is RunStatus.FINISHED
        except KeyboardInterrupt:
            self.cancel()
            raise

    def get_status(self) -> RunStatus:
        if self.future is not None and self.future.done():
            return RunStatus.KILLED if self.future.cancelled() else self.future.result()
        if self.process_run is not None:
            return self.process_run.get_status()
        return RunStatus.SCHEDULED

    def cancel(self) -> None:
        self._cancelled.set()
        if self.future is not None and self.future.cancel():  # still queued: never starts
            record_status(self.job.tracking_uri, self.run_id, RunStatus.KILLED)
        elif self.process_run is not None:
            self.process_run.cancel()


class PoolBackend:
    """``backend_config``: ``{"workers": N}``, the number of commands that may run at once (default 2)."""

    def __init__(self, backend_config: dict[str, Any] | None = None):
        config = dict(backend_config or {})
        workers = config.pop("workers", 2)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ProjectError(f"The pool backend's `workers` must be a whole number of at least 1, not {workers!r}.")
        if config:
            raise ProjectError(f"Unknown pool backend settings: {', '.join(sorted(config))}. Known: workers.")
        self.workers = workers

    def submit(self, job: ProjectJob) -> SubmittedRun:
        from headwater.tracking.client import Client

        run = PoolRun(job)
        # Queued, not yet running: SCHEDULED until a slot takes it.
        Client(job.tracking_uri).update_run(job.run_id, status=RunStatus.SCHEDULED)
        run.future = shared_pool(self.workers).submit(run.work)
        return run
