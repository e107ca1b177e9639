"""The fluent tracking API: ``headwater.start_run()``, ``headwater.log_metric(...)``, ...

Module-level state, as MLflow's clients keep it: the active experiment is
process-wide, the stack of active runs is per thread. Clients are cached per
(tracking URI, artifact root, plugin manager), and an active run remembers the
client that started it, so ``log_metric`` inside a run costs one store call.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any, Mapping, Sequence

from headwater.entities import Experiment, FileInfo, LifecycleStage, Metric, Run, RunStatus, ViewType
from headwater.events import register_external_observer
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.tracking import context
from headwater.tracking.client import Client, make_metric, now_millis
from headwater.tracking.uri import artifact_root, first_env, get_tracking_uri, resolve_tracking_uri, set_tracking_uri
from headwater.registry import fluent as _registry_fluent
from headwater.registry.fluent import *  # noqa: E402,F401,F403  (module-level registry functions)

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "download_artifacts",
    "end_run",
    "get_experiment",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_batch",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "param",
    "register_external_observer",
    "rename_experiment",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    *_registry_fluent.__all__,
]

RUN_ID_ENV = ("HEADWATER_RUN_ID", "MLFLOW_RUN_ID")
EXPERIMENT_ID_ENV = ("HEADWATER_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID")
EXPERIMENT_NAME_ENV = ("HEADWATER_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")
DEFAULT_EXPERIMENT_ID = "0"
# Most runs the pandas form of search_runs collects, as MLflow's.
SEARCH_MAX_RESULTS_PANDAS = 100_000

_active_experiment_id: str | None = None
_clients: dict[tuple[str, str | None], Client] = {}
_clients_lock = threading.Lock()
_atexit_registered = False


class _RunState(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []
        self.last_run_id: str | None = None
        self.last_client: Client | None = None


_state = _RunState()


def _client() -> Client:
    """The client for the current tracking URI, built once per URI and plugin manager."""
    from headwater.plugins.manager import get_plugin_manager

    key = (resolve_tracking_uri(), artifact_root())
    manager = get_plugin_manager()
    client = _clients.get(key)
    if client is None or client.plugin_manager is not manager:
        with _clients_lock:
            client = _clients.get(key)
            if client is None or client.plugin_manager is not manager:
                client = _clients[key] = Client(key[0])
    return client


class ActiveRun:
    """The run a ``with headwater.start_run():`` block works in.

    Reads like a :class:`~headwater.entities.Run` (``.info``, ``.data``) as
    of when it started. Leaving the block ends the run FINISHED, or FAILED
    when an exception escaped it.
    """

    def __init__(self, run: Run, client: Client):
        self.run = run
        self.client = client
        self.run_id = run.info.run_id

    @property
    def info(self) -> Any:
        return self.run.info

    @property
    def data(self) -> Any:
        return self.run.data

    @property
    def inputs(self) -> Any:
        return self.run.inputs

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self in _state.stack:
            while _state.stack and _state.stack[-1] is not self:
                end_run(RunStatus.FAILED if exc_type else RunStatus.FINISHED)
            end_run(RunStatus.FINISHED if exc_type is None else RunStatus.FAILED)
        return False

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self.run_id!r}>"


# -- tracking URI and experiments ----------------------------------------------------------
def create_experiment(name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str | int | None = None, name: str | None = None) -> Experiment:
    """An experiment by id or name; with neither, the active experiment."""
    if experiment_id is not None and name is not None:
        raise HeadwaterError.invalid("Only one of experiment_id or name should be specified.")
    if name is not None:
        experiment = get_experiment_by_name(name)
        if experiment is None:
            raise HeadwaterError.not_found(f"Could not find experiment with name '{name}'")
        return experiment
    return _client().get_experiment(experiment_id if experiment_id is not None else _experiment_id())


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Matching experiments, every page collected (up to ``max_results`` if given)."""
    client = _client()
    out: list[Experiment] = []
    token = None
    while max_results is None or len(out) < max_results:
        size = 1000 if max_results is None else min(1000, max_results - len(out))
        page = client.search_experiments(view_type, size, filter_string, order_by, token)
        out.extend(page.items)
        token = page.token
        if not token:
            break
    return out


def set_experiment(
    experiment_name: str | None = None,
    experiment_id: str | int | None = None,
    artifact_location: str | None = None,
) -> Experiment:
    """Make an experiment active, by name (created if missing) or id; returns it."""
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise HeadwaterError.invalid("Must specify exactly one of: `experiment_id` or `experiment_name`.")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(experiment_id)
    else:
        experiment = client.get_experiment_by_name(experiment_name)  # type: ignore[arg-type]
        if experiment is None:
            new_id = client.create_experiment(experiment_name, artifact_location)  # type: ignore[arg-type]
            experiment = client.get_experiment(new_id)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise HeadwaterError(
            f"Cannot set a deleted experiment '{experiment.name}' as the active experiment."
            " You can restore the experiment, or permanently delete the experiment to create a new one.",
            ErrorCode.INVALID_PARAMETER_VALUE,
        )
    _active_experiment_id = experiment.experiment_id
    return experiment


def _experiment_id() -> str:
    """The active experiment: set_experiment, else the environment, else the default (0)."""
    if _active_experiment_id is not None:
        return _active_experiment_id
    name = first_env(EXPERIMENT_NAME_ENV)
    env_id = first_env(EXPERIMENT_ID_ENV)
    client = _client()
    if name is not None:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            return client.create_experiment(name)
        if env_id is not None and env_id != experiment.experiment_id:
            raise HeadwaterError.invalid(
                f"The experiment name {name!r} and experiment id {env_id!r} in the environment disagree."
            )
        return experiment.experiment_id
    if env_id is not None:
        try:
            return client.get_experiment(env_id).experiment_id
        except HeadwaterError as exc:
            raise HeadwaterError.invalid(
                f"The experiment id {env_id!r} in the environment does not exist in the tracking store."
            ) from exc
    return DEFAULT_EXPERIMENT_ID


def delete_experiment(experiment_id: str | int) -> None:
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str | int) -> None:
    _client().restore_experiment(experiment_id)


def rename_experiment(experiment_id: str | int, new_name: str) -> None:
    _client().rename_experiment(experiment_id, new_name)


def set_experiment_tag(key: str, value: Any, experiment_id: str | int | None = None) -> None:
    """Tag an experiment (the active one by default)."""
    _client().set_experiment_tag(experiment_id if experiment_id is not None else _experiment_id(), key, value)


# -- runs -------------------------------------------------------------------------------------
def start_run(
    run_id: str | None = None,
    experiment_id: str | int | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
) -> ActiveRun:
    """Start a run, or resume one, and make it the active run of this thread.

    ``run_id`` (or ``HEADWATER_RUN_ID``/``MLFLOW_RUN_ID``) resumes that run:
    its status goes back to RUNNING. A new run gets the system tags of
    :mod:`headwater.tracking.context`, and ``mlflow.parentRunId`` when
    ``nested`` under the active run.
    """
    stack = _state.stack
    if stack and not nested:
        raise HeadwaterError.invalid(
            f"Run with UUID {stack[0].run_id} is already active. To start a new run, first end the"
            " current run with headwater.end_run(). To start a nested run, call start_run with nested=True"
        )
    client = _client()
    existing_id = run_id
    if existing_id is None and (existing_id := first_env(RUN_ID_ENV)) is not None:
        # The environment names the run of this process only once; later runs are new.
        # Only the variable read is consumed: MLflow's client in the same script (a
        # project run) still resumes the same run from MLFLOW_RUN_ID.
        for name in RUN_ID_ENV:
            if os.environ.pop(name, None) is not None:
                break
    if existing_id:
        run = _resume(client, existing_id, experiment_id, run_name, tags)
    else:
        user_tags = {k: str(v) for k, v in (tags or {}).items()}
        if stack:
            user_tags[context.PARENT_RUN_ID] = stack[-1].run_id
        if run_name:
            user_tags[context.RUN_NAME] = run_name
        run = client.create_run(
            str(experiment_id) if experiment_id is not None else _experiment_id(),
            tags=context.resolve_tags(user_tags),
            run_name=run_name,
        )
    active = ActiveRun(run, client)
    stack.append(active)
    _register_atexit()
    return active


def _resume(client: Client, run_id: str, experiment_id: Any, run_name: str | None, tags: Any) -> Run:
    run = client.get_run(run_id)
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise HeadwaterError.invalid(
            f"Cannot start run with ID {run_id} in experiment {experiment_id}: it belongs to"
            f" experiment {run.info.experiment_id}."
        )
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise HeadwaterError.invalid(f"Cannot start run with ID {run_id} because it is in the deleted state.")
    client.service.update_run_info(run_id, RunStatus.RUNNING, None, run_name)
    if tags:
        client.log_batch(run_id, tags=tags)
    return client.get_run(run_id)


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End this thread's active run (if any) with ``status``."""
    stack = _state.stack
    if not stack:
        return
    active = stack.pop()
    _state.last_run_id, _state.last_client = active.run_id, active.client
    active.client.set_terminated(active.run_id, status)


def _end_runs_at_exit() -> None:
    # An uncaught exception ended the program: mark what was running FAILED.
    status = RunStatus.FAILED if getattr(sys, "last_value", None) is not None else RunStatus.FINISHED
    while _state.stack:
        try:
            end_run(status)
        except Exception:
            pass


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(_end_runs_at_exit)


def active_run() -> ActiveRun | None:
    """This thread's active run, or None."""
    return _state.stack[-1] if _state.stack else None


def last_active_run() -> Run | None:
    """The active run, else the run this thread ended last (as stored now), else None."""
    if _state.stack:
        top = _state.stack[-1]
        return top.client.get_run(top.run_id)
    if _state.last_run_id is None or _state.last_client is None:
        return None
    return _state.last_client.get_run(_state.last_run_id)


def _current() -> ActiveRun:
    """The active run, started on demand as MLflow's fluent logging does."""
    stack = _state.stack
    return stack[-1] if stack else start_run()


def _target(run_id: str | None) -> tuple[Client, str]:
    if run_id is not None:
        return _client(), run_id
    active = _current()
    return active.client, active.run_id


def _read_target(run_id: str | None) -> tuple[Client, str]:
    """Like :func:`_target`, but reading never starts a run."""
    if run_id is not None:
        return _client(), run_id
    if not _state.stack:
        raise HeadwaterError.invalid("No run_id given and no active run. Start a run or pass run_id.")
    return _state.stack[-1].client, _state.stack[-1].run_id


def get_run(run_id: str | None = None) -> Run:
    client, run_id = _read_target(run_id)
    return client.get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _client().restore_run(run_id)


# -- logging -----------------------------------------------------------------------------------
def log_param(key: str, value: Any, run_id: str | None = None) -> Any:
    client, run_id = _target(run_id)
    return client.log_param(run_id, key, value)


def log_params(params: Mapping[str, Any], run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.log_batch(run_id, params=params)


def log_metric(
    key: str, value: Any, step: int | None = None, timestamp: int | None = None, run_id: str | None = None
) -> None:
    """Log one metric point to the active run (started on demand)."""
    stack = _state.stack
    if run_id is None and stack:  # the hot path: no lookups beyond the thread's stack
        active = stack[-1]
        active.client.service.log_metric(active.run_id, make_metric(key, value, timestamp, step))
        return
    client, run_id = _target(run_id)
    client.log_metric(run_id, key, value, timestamp, step)


def log_metrics(
    metrics: Mapping[str, Any], step: int | None = None, timestamp: int | None = None, run_id: str | None = None
) -> None:
    client, run_id = _target(run_id)
    when = now_millis() if timestamp is None else timestamp
    client.log_batch(run_id, metrics=[make_metric(k, v, when, step) for k, v in metrics.items()])


def set_tag(key: str, value: Any, run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.set_tag(run_id, key, value)


def set_tags(tags: Mapping[str, Any], run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.log_batch(run_id, tags=tags)


def delete_tag(key: str, run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.delete_tag(run_id, key)


def log_batch(metrics: Any = (), params: Any = (), tags: Any = (), run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.log_batch(run_id, metrics, params, tags)


def get_metric_history(key: str, run_id: str | None = None) -> list[Metric]:
    client, run_id = _read_target(run_id)
    return client.get_metric_history(run_id, key)


def search_runs(
    experiment_ids: str | int | Sequence[str | int] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> Any:
    """Runs matching a filter, as a pandas DataFrame (default) or a list of runs.

    Experiments default to the active one; ``search_all_experiments`` searches
    every active experiment instead.
    """
    if output_format not in ("pandas", "list"):
        raise ValueError(f"Unsupported output format: {output_format!r}. Use 'pandas' or 'list'.")
    if output_format == "pandas":
        from headwater.tracking.frames import require_pandas

        require_pandas()
    client = _client()
    if experiment_ids not in (None, []) and experiment_names:
        raise HeadwaterError.invalid("Only experiment_ids or experiment_names can be used, but not both")
    if isinstance(experiment_ids, (str, int)):
        experiment_ids = [experiment_ids]
    if experiment_names:
        found = [client.get_experiment_by_name(name) for name in experiment_names]
        ids = [e.experiment_id for e in found if e is not None]
    elif experiment_ids:
        ids = [str(e) for e in experiment_ids]
    elif search_all_experiments:
        ids = [e.experiment_id for e in client.list_experiments(ViewType.ACTIVE_ONLY)]
    else:
        ids = [_experiment_id()]
    runs: list[Run] = []
    token = None
    while ids and len(runs) < max_results:
        page = client.search_runs(ids, filter_string, run_view_type, min(1000, max_results - len(runs)), order_by, token)
        runs.extend(page.items)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    from headwater.tracking.frames import runs_to_dataframe

    return runs_to_dataframe(runs)


# -- artifacts ------------------------------------------------------------------------------------
def log_artifact(local_path: str, artifact_path: str | None = None, run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.log_artifact(run_id, local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None, run_id: str | None = None) -> None:
    client, run_id = _target(run_id)
    client.log_artifacts(run_id, local_dir, artifact_path)


def list_artifacts(path: str | None = None, run_id: str | None = None) -> list[FileInfo]:
    client, run_id = _read_target(run_id)
    return client.list_artifacts(run_id, path)


def download_artifacts(
    path: str = "",
    run_id: str | None = None,
    dst_path: str | None = None,
    artifact_path: str | None = None,
    artifact_uri: str | None = None,
) -> str:
    """Download a run's artifact file or directory; ``artifact_path`` is an alias of ``path``.

    With ``artifact_uri`` (or a ``models:/``/``runs:/`` URI as ``path`` and no
    run), download what that URI names: ``models:/<name>/<version>`` and the
    other model URIs resolve through the registry.
    """
    if artifact_uri is None and run_id is None and path.startswith(("models:", "runs:")):
        artifact_uri = path
    if artifact_uri is not None:
        return _client().download_artifacts_from_uri(artifact_uri, dst_path)
    client, run_id = _read_target(run_id)
    return client.download_artifacts(run_id, artifact_path if artifact_path is not None else path, dst_path)


# -- project parameters ---------------------------------------------------------------------------
def param(name: str, default: Any = None, type: str | None = None, description: str | None = None) -> Any:
    """A project parameter: ``--name value`` on the command line, else the environment, else ``default``.

    The environment is read as ``HEADWATER_PARAM_<NAME>`` or
    ``MLFLOW_PARAM_<NAME>`` (``NAME`` as given or upper-cased). ``type`` is
    one of numeric/float, integer/int, string, boolean; without it the type
    of ``default`` is used. ``description`` documents the parameter.
    """
    from headwater.tracking.params import convert, infer_type, lookup

    target = type or infer_type(default)
    if target is None:
        raise HeadwaterError.invalid(f"Parameter {name!r}: at least one of `default` or `type` must be given.")
    raw = lookup(name)
    if raw is None:
        return None if default is None else convert(name, default, target)
    return convert(name, raw, target)
