"""What a project backend receives and returns, and child-process supervision.

A backend is built by its provider's factory, ``factory(backend_config)``,
and has one method, ``submit(job) -> SubmittedRun``. The core has already
fetched the project, checked its parameters, chosen its environment and
created the run; the backend only decides where and how the command runs.
Backends that run the command on this machine call ``job.prepare_process()``
(it builds or reuses the environment) and ``start_process`` and hand the
process to :class:`ProcessRun`, which records FINISHED, FAILED or KILLED.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from headwater.entities import RunStatus
from headwater.projects.environments import EnvironmentPlan
from headwater.projects.params import ResolvedParameters
from headwater.projects.sources import ProjectSource
from headwater.projects.spec import EntryPoint, Project, ProjectError

log = logging.getLogger(__name__)

FAILURE_REASON_TAG = "headwater.project.failureReason"
# Exit codes a shell reports for a child killed by SIGINT, SIGKILL or SIGTERM.
_SHELL_SIGNAL_CODES = {128 + signal.SIGINT, 128 + signal.SIGKILL, 128 + signal.SIGTERM}
_STOP_GRACE_SECONDS = float(os.environ.get("HEADWATER_PROJECT_STOP_GRACE", "10"))


def status_for_returncode(returncode: int) -> RunStatus:
    """0 is FINISHED, death by a signal is KILLED, any other code is FAILED."""
    if returncode == 0:
        return RunStatus.FINISHED
    if returncode < 0 or returncode in _SHELL_SIGNAL_CODES:
        return RunStatus.KILLED
    return RunStatus.FAILED


@dataclass(frozen=True)
class ProcessSpec:
    argv: list[str]
    env: dict[str, str]
    cwd: str


@dataclass
class ProjectJob:
    """One entry point of one project, ready to run as run ``run_id``."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    project: Project
    source: ProjectSource
    entry_point: EntryPoint
    parameters: ResolvedParameters
    argv: list[str]  # the command, before the environment is applied
    environment: EnvironmentPlan
    backend_config: dict[str, Any] = field(default_factory=dict)
    docker_args: dict[str, str | bool] = field(default_factory=dict)
    synchronous: bool = True

    @property
    def tracking_variables(self) -> dict[str, str]:
        """What tells the child which store and run to log to (Headwater's and MLflow's clients)."""
        return {
            "HEADWATER_TRACKING_URI": self.tracking_uri,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "HEADWATER_RUN_ID": self.run_id,
            "MLFLOW_RUN_ID": self.run_id,
            "HEADWATER_EXPERIMENT_ID": self.experiment_id,
            "MLFLOW_EXPERIMENT_ID": self.experiment_id,
        }

    def prepare_process(self, console: Console | None = None) -> ProcessSpec:
        """Build or reuse the environment; the process to start in it."""
        activation = self.environment.prepare(
            console, self.tracking_variables, self.tracking_uri, self.docker_args
        )
        base = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_EXPERIMENT_NAME", "HEADWATER_EXPERIMENT_NAME")}
        env = activation.environ(base)
        env.update(self.tracking_variables)
        argv = list(self.argv)
        if activation.wrap is not None:
            argv = activation.wrap(argv, self.tracking_variables)
        executable = shutil.which(argv[0], path=env.get("PATH"))
        if executable is None:
            raise ProjectError(f"Cannot run {argv[0]!r}: it is not on the environment's PATH.")
        argv[0] = executable
        return ProcessSpec(argv=argv, env=env, cwd=str(self.source.directory))


def start_process(spec: ProcessSpec) -> subprocess.Popen:
    """Start the command in a session of its own, so it can be stopped with everything it started."""
    return subprocess.Popen(spec.argv, env=spec.env, cwd=spec.cwd, start_new_session=True)


class SubmittedRun(ABC):
    """A run handed to a backend."""

    run_id: str

    @abstractmethod
    def wait(self) -> bool:
        """Block until the run ends; True when it FINISHED."""

    @abstractmethod
    def get_status(self) -> RunStatus:
        """RUNNING (or SCHEDULED) until it ends, then its final status."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the run; it ends KILLED."""


def record_status(tracking_uri: str, run_id: str, status: RunStatus, reason: str | None = None) -> None:
    """Write a run's final status (and why it failed); a store error is logged, not raised."""
    from headwater.tracking.client import Client

    try:
        client = Client(tracking_uri)
        if reason:
            client.set_tag(run_id, FAILURE_REASON_TAG, reason[:8000])
        client.set_terminated(run_id, status)
    except Exception as exc:  # the child's exit must still be reported to the caller
        log.warning("Could not record status %s for run %s: %s", status.value, run_id, exc)


class ProcessRun(SubmittedRun):
    """A run whose command is a child process of this one."""

    def __init__(self, run_id: str, tracking_uri: str, process: subprocess.Popen):
        self.run_id = run_id
        self.tracking_uri = tracking_uri
        self.process = process
        self._status: RunStatus | None = None
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def _finish(self, status: RunStatus, reason: str | None = None) -> RunStatus:
        with self._lock:
            if self._status is None:
                self._status = status
                record_status(self.tracking_uri, self.run_id, status, reason)
            return self._status

    def _finish_from_exit(self, returncode: int) -> RunStatus:
        status = status_for_returncode(returncode)
        reason = f"The command exited with code {returncode}." if status is RunStatus.FAILED else None
        return self._finish(status, reason)

    def watch_in_background(self) -> None:
        """Record the final status when the process ends, without blocking the caller."""
        self._watcher = threading.Thread(
            target=lambda: self._finish_from_exit(self.process.wait()), name=f"run-{self.run_id}", daemon=True
        )
        self._watcher.start()

    def wait(self) -> bool:
        try:
            returncode = self.process.wait()
        except KeyboardInterrupt:
            self.cancel()
            raise
        if self._watcher is not None:
            self._watcher.join()
        return self._finish_from_exit(returncode) is RunStatus.FINISHED

    def get_status(self) -> RunStatus:
        if self._status is not None:
            return self._status
        returncode = self.process.poll()
        return RunStatus.RUNNING if returncode is None else status_for_returncode(returncode)

    def cancel(self) -> None:
        try:
            stop_process_group(self.process)
        except KeyboardInterrupt:  # a second Ctrl-C: stop asking politely
            stop_process_group(self.process, grace=0, signals=(signal.SIGKILL,))
            raise
        finally:
            self._finish(RunStatus.KILLED)


def stop_process_group(
    process: subprocess.Popen,
    grace: float = _STOP_GRACE_SECONDS,
    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL),
) -> None:
    """SIGINT the child's session (as Ctrl-C would), then SIGTERM, then SIGKILL."""
    for sig in signals:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
