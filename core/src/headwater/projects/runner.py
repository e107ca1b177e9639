"""``headwater.projects.run``: fetch, check, record, then hand the entry point to a backend.

Order matters for bad input: everything that can be checked (backend name,
source and version, MLproject, entry point, parameters, command template,
environment manager) is checked before the run is created, so those errors
leave no trace in the tracking store. What fails later (building the
environment, the command itself) ends the run FAILED, with the reason in the
``headwater.project.failureReason`` tag.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from rich.console import Console

from headwater.entities import RunStatus, SourceType
from headwater.exceptions import HeadwaterError, PluginError
from headwater.projects import command as commands
from headwater.projects.backend import FAILURE_REASON_TAG, ProjectJob, SubmittedRun, record_status
from headwater.projects.environments import plan_environment
from headwater.projects.params import resolve_parameters
from headwater.projects.sources import fetch_project
from headwater.projects.spec import DEFAULT_ENTRY_POINT, ProjectError, load_project
from headwater.tracking import context
from headwater.tracking.uri import first_env, resolve_tracking_uri

ENTRY_POINT_TAG = "mlflow.project.entryPoint"
ENV_TAG = "mlflow.project.env"
BACKEND_TAG = "mlflow.project.backend"
DOCKER_IMAGE_TAG = "mlflow.docker.image.uri"


class ProjectRunFailed(HeadwaterError):
    """A synchronous project run that ended FAILED or KILLED."""

    def __init__(self, run_id: str, status: RunStatus):
        super().__init__(f"Run (ID '{run_id}') ended {status.value}.", "INTERNAL_ERROR")
        self.run_id = run_id
        self.status = status


def parse_backend_config(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A dict, a path to a JSON file, or an inline JSON object."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    text = value
    if value.endswith(".json") or os.path.isfile(value):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise ProjectError(f"Cannot read the backend config file {value}: {exc}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"The backend config is not valid JSON ({exc}): {value!r}") from None
    if not isinstance(config, dict):
        raise ProjectError("The backend config must be a JSON object.")
    return config


def absolute_tracking_uri(uri: str) -> str:
    """``uri`` with a relative SQLite or file path made absolute: the child runs elsewhere."""
    parts = urlsplit(uri)
    if parts.scheme == "sqlite" and parts.path.startswith("/") and not parts.path.startswith("//"):
        relative = parts.path[1:]
        if relative and relative != ":memory:":
            return uri.replace(parts.path, "/" + os.path.abspath(relative), 1)
    if parts.scheme == "file" and not parts.netloc and parts.path and not os.path.isabs(parts.path):
        return Path(parts.path).absolute().as_uri()
    if parts.scheme == "" and uri:
        return os.path.abspath(uri)
    return uri


def _experiment_id(client: Any, experiment_name: str | None, experiment_id: str | None) -> str:
    if experiment_name is not None and experiment_id is not None:
        raise ProjectError("Give either an experiment name or an experiment id, not both.")
    if experiment_name is None and experiment_id is None:
        experiment_id = first_env(("HEADWATER_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"))
        if experiment_id is None:
            experiment_name = first_env(("HEADWATER_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"))
    if experiment_name is not None:
        found = client.get_experiment_by_name(experiment_name)
        return found.experiment_id if found is not None else client.create_experiment(experiment_name)
    if experiment_id is not None:
        return client.get_experiment(str(experiment_id)).experiment_id
    return "0"


def _downloader(storage_dir: str | None, tracking_uri: str):
    made: list[Path] = []

    def storage() -> Path:
        if not made:
            made.append(Path(storage_dir) if storage_dir else Path(tempfile.mkdtemp(prefix="headwater-params-")))
        return made[0]

    def download(uri: str, index: int) -> str:
        target = storage() / f"param_{index}"
        target.mkdir(parents=True, exist_ok=True)
        try:
            if uri.startswith("runs:/"):
                from headwater.tracking.client import Client

                run_id, _, path = uri[len("runs:/"):].partition("/")
                return Client(tracking_uri).download_artifacts(run_id, path, str(target))
            if uri.startswith(("http://", "https://")):
                return _download_url(uri, target)
            from headwater.plugins.manager import get_plugin_manager

            parent, _, name = uri.rstrip("/").rpartition("/")
            repo = get_plugin_manager().artifact_repository(parent)
            return repo.download_artifacts(name, str(target))
        except (HeadwaterError, OSError) as exc:
            raise ProjectError(f"Cannot download the path parameter value {uri!r}: {exc}") from None

    return download


def _download_url(url: str, target: Path) -> str:
    """A plain web file (not an artifact store): streamed to ``target/<its name>``."""
    import requests

    name = os.path.basename(urlsplit(url).path) or "download"
    path = target / name
    try:
        with requests.get(url, stream=True, timeout=60) as response:
            response.raise_for_status()
            with open(path, "wb") as out:
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
    except requests.RequestException as exc:
        raise ProjectError(f"Cannot download the path parameter value {url!r}: {exc}") from None
    return str(path)


def _parent_run_id() -> str | None:
    fluent = sys.modules.get("headwater.tracking.fluent")
    active = fluent.active_run() if fluent is not None else None
    return active.info.run_id if active is not None else None


def run(
    uri: str = ".",
    entry_point: str = DEFAULT_ENTRY_POINT,
    version: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    docker_args: Mapping[str, str | bool] | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    backend: str = "local",
    backend_config: str | Mapping[str, Any] | None = None,
    env_manager: str | None = None,
    storage_dir: str | None = None,
    synchronous: bool = True,
    run_id: str | None = None,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    console: Console | None = None,
) -> SubmittedRun:
    """Run an entry point of the project at ``uri`` and record it as a run.

    Running a project runs its code: only run projects you trust. With
    ``synchronous=True`` (the default) this returns when the command has ended,
    and raises :class:`ProjectRunFailed` unless it FINISHED; otherwise it
    returns at once and ``wait()`` on the result blocks.
    """
    console = console or Console(stderr=True)
    from headwater.plugins.manager import get_plugin_manager
    from headwater.tracking.client import Client

    try:
        backend_factory = get_plugin_manager().project_backend(backend)
    except PluginError as exc:
        raise ProjectError(str(exc)) from None
    config = parse_backend_config(backend_config)
    backend_impl = backend_factory(config)  # a bad config is refused here, before any run exists
    tracking_uri = absolute_tracking_uri(resolve_tracking_uri(tracking_uri))

    source = fetch_project(uri, version)
    project = load_project(source.directory)
    entry = project.entry_point(entry_point or DEFAULT_ENTRY_POINT)
    environment = plan_environment(project, env_manager)
    resolved = resolve_parameters(
        entry, dict(parameters or {}), project_dir=project.root,
        download=_downloader(storage_dir, tracking_uri),
    )
    argv = commands.build_argv(entry, resolved)

    client = Client(tracking_uri)
    tags = {
        context.USER: context.current_user(),
        context.SOURCE_NAME: source.source_name,
        context.SOURCE_TYPE: SourceType.PROJECT.value,
        ENTRY_POINT_TAG: entry.name,
        ENV_TAG: environment.manager,
        BACKEND_TAG: backend,
        **source.git,
    }
    if project.docker_env is not None:
        tags[DOCKER_IMAGE_TAG] = project.docker_env.image
    if run_name:
        tags[context.RUN_NAME] = run_name
    if run_id is None:
        if (parent := _parent_run_id()) is not None:
            tags[context.PARENT_RUN_ID] = parent
        experiment = _experiment_id(client, experiment_name, experiment_id)
        created = client.create_run(experiment, tags=tags, run_name=run_name)
        run_id = created.info.run_id
    else:
        experiment = client.get_run(run_id).info.experiment_id
        client.update_run(run_id, status=RunStatus.RUNNING, name=run_name)
        client.log_batch(run_id, tags=tags)

    job = ProjectJob(
        run_id=run_id, experiment_id=experiment, tracking_uri=tracking_uri, project=project, source=source,
        entry_point=entry, parameters=resolved, argv=argv, environment=environment,
        backend_config=config, docker_args=dict(docker_args or {}), synchronous=synchronous,
    )
    try:
        if resolved.logged:
            client.log_batch(run_id, params=resolved.logged)
        console.print(
            f"Run (ID '{run_id}') in experiment {experiment}: {commands.display(argv)}",
            markup=False, highlight=False, soft_wrap=True,
        )
        submitted = backend_impl.submit(job)
    except BaseException as exc:
        reason = str(exc) or type(exc).__name__
        killed = isinstance(exc, KeyboardInterrupt)
        record_status(tracking_uri, run_id, RunStatus.KILLED if killed else RunStatus.FAILED,
                      None if killed else reason)
        raise
    if synchronous:
        finished = submitted.wait()
        status = submitted.get_status()
        console.print(f"Run (ID '{run_id}') {status.value}", markup=False, highlight=False)
        if not finished:
            raise ProjectRunFailed(run_id, status)
    return submitted


__all__ = ["FAILURE_REASON_TAG", "ProjectRunFailed", "run"]
