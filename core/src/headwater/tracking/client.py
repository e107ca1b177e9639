"""``headwater.Client``: explicit-id access to a tracking store and its artifacts.

Method names follow MLflow's ``MlflowClient`` where one exists, plus the R
API's (``list_experiments``, ``list_run_infos``). Every mutation goes through a
:class:`~headwater.tracking.service.TrackingService`, so observers see it.
"""

from __future__ import annotations

import numbers
import os
import posixpath
import time
from typing import Any, Iterable, Mapping, Sequence

from headwater.entities import (
    Experiment,
    FileInfo,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from headwater.exceptions import HeadwaterError
from headwater.models.client import ModelsClientMixin
from headwater.registry.client import RegistryClientMixin
from headwater.tracking.service import TrackingService, tag_dict
from headwater.tracking.uri import artifact_root, resolve_tracking_uri

# Page size used when a call collects every page (list_experiments, metric history, ...).
_PAGE = 1000


def now_millis() -> int:
    return int(time.time() * 1000)


def make_metric(key: str, value: Any, timestamp: int | None = None, step: int | None = None) -> Metric:
    """A metric point from user input; non-numeric values are refused as MLflow does."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HeadwaterError.invalid(
            f'Invalid value "{value}" for parameter \'value\' supplied: Hint: Value was of type'
            f" '{type(value).__name__}'. Metric values must be numeric."
        )
    timestamp = now_millis() if timestamp is None else int(round(timestamp))
    step = 0 if step is None else int(round(step))
    # Already checked above; skipping pydantic validation keeps log_metric cheap.
    return Metric.model_construct(key=key, value=float(value), timestamp=timestamp, step=step,
                                  run_id=None, dataset_name=None, dataset_digest=None, model_id=None)


def _pairs(items: Any) -> Iterable[tuple[str, Any]]:
    """(key, value) pairs from a mapping, entities, dicts with key/value, or tuples."""
    if items is None:
        return []
    if isinstance(items, Mapping):
        return list(items.items())
    if hasattr(items, "to_dict") and hasattr(items, "columns"):  # a pandas DataFrame, as in the R API
        items = items.to_dict("records")
    out = []
    for item in items:
        if isinstance(item, Mapping):
            out.append((item["key"], item["value"]))
        elif hasattr(item, "key"):
            out.append((item.key, item.value))
        else:
            key, value = item
            out.append((key, value))
    return out


def _metrics(items: Any) -> list[Metric]:
    if items is None:
        return []
    if hasattr(items, "to_dict") and hasattr(items, "columns"):
        items = items.to_dict("records")
    out = []
    for item in items:
        if isinstance(item, Metric):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(make_metric(item["key"], item["value"], item.get("timestamp"), item.get("step")))
        else:
            out.append(make_metric(*item))
    return out


def _str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class Client(ModelsClientMixin, RegistryClientMixin):
    """A client of the tracking store at ``tracking_uri`` (resolved as :mod:`headwater.tracking.uri` says).

    Registry calls go to ``registry_uri`` (default: see :mod:`headwater.registry.uri`).
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None):
        from headwater.events import install_plugin_observers
        from headwater.plugins.manager import get_plugin_manager

        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.registry_uri = registry_uri
        self.plugin_manager = get_plugin_manager()
        store = self.plugin_manager.tracking_store(self.tracking_uri, artifact_root())
        self.service = TrackingService(store)
        install_plugin_observers(self.plugin_manager)

    @property
    def store(self) -> Any:
        return self.service.store

    def __repr__(self) -> str:
        return f"Client(tracking_uri={self.tracking_uri!r})"

    # -- experiments ------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> str:
        """Create an experiment; returns its id."""
        return self.service.create_experiment(name, artifact_location, tag_dict(tags) or None)

    def get_experiment(self, experiment_id: str | int) -> Experiment:
        return self.service.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.service.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self.service.search_experiments(
            ViewType.parse(view_type), max_results, filter_string, order_by, page_token
        )

    def list_experiments(self, view_type: ViewType | str | int = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        """Every experiment in the view, all pages collected (the R API's ``mlflow_list_experiments``)."""
        out: list[Experiment] = []
        token = None
        while True:
            page = self.search_experiments(view_type, _PAGE, page_token=token)
            out.extend(page.items)
            token = page.token
            if not token:
                return out

    def set_experiment_tag(self, experiment_id: str | int, key: str, value: Any) -> None:
        self.service.set_experiment_tag(str(experiment_id), key, _str(value))

    def delete_experiment_tag(self, experiment_id: str | int, key: str) -> None:
        self.service.delete_experiment_tag(str(experiment_id), key)

    def rename_experiment(self, experiment_id: str | int, new_name: str) -> None:
        self.service.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str | int) -> None:
        self.service.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str | int) -> None:
        self.service.restore_experiment(str(experiment_id))

    # -- runs ---------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str | int,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run. The user is taken from the ``mlflow.user`` tag, as MLflow does."""
        tag_map = {k: _str(v) for k, v in (tags or {}).items()}
        run_tags = [RunTag(key=k, value=v) for k, v in tag_map.items()]
        return self.service.create_run(
            str(experiment_id),
            user_id=tag_map.get("mlflow.user", "unknown"),
            start_time=now_millis() if start_time is None else start_time,
            tags=run_tags,
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        return self.service.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        status: RunStatus | str | None = None,
        name: str | None = None,
        end_time: int | None = None,
    ) -> RunInfo:
        """Change a run's status and/or name; a terminal status stamps the end time."""
        run_status = None if status is None else RunStatus.parse(status)
        if end_time is None and run_status is not None and run_status.is_terminated():
            end_time = now_millis()
        return self.service.update_run_info(run_id, run_status, end_time, name)

    def set_terminated(self, run_id: str, status: RunStatus | str = "FINISHED", end_time: int | None = None) -> RunInfo:
        """End a run (the R API's ``mlflow_end_run``)."""
        run_status = RunStatus.parse(status)
        return self.service.update_run_info(run_id, run_status, now_millis() if end_time is None else end_time)

    def delete_run(self, run_id: str) -> None:
        self.service.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.service.restore_run(run_id)

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Log a param (stored as a string); returns ``value`` as given."""
        self.service.log_param(run_id, Param(key=key, value=_str(value)))
        return value

    def log_metric(
        self, run_id: str, key: str, value: Any, timestamp: int | None = None, step: int | None = None
    ) -> None:
        self.service.log_metric(run_id, make_metric(key, value, timestamp, step))

    def log_batch(self, run_id: str, metrics: Any = (), params: Any = (), tags: Any = ()) -> None:
        """Log metrics, params and tags together: all of them or, on error, none.

        Each may be a sequence of entities, of ``{"key": ..., "value": ...}``
        dicts or of tuples, a mapping (params/tags), or a pandas DataFrame.
        """
        self.service.log_batch(
            run_id,
            metrics=_metrics(metrics),
            params=[Param(key=k, value=_str(v)) for k, v in _pairs(params)],
            tags=[RunTag(key=k, value=_str(v)) for k, v in _pairs(tags)],
        )

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.service.set_tag(run_id, RunTag(key=key, value=_str(value)))

    def delete_tag(self, run_id: str, key: str) -> None:
        self.service.delete_tag(run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, all pages collected."""
        out: list[Metric] = []
        token = None
        while True:
            page = self.service.get_metric_history(run_id, key, None, token)
            out.extend(page.items)
            token = page.token
            if not token:
                return out

    def search_runs(
        self,
        experiment_ids: str | int | Sequence[str | int],
        filter_string: str = "",
        run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        return self.service.search_runs(
            [str(e) for e in experiment_ids],
            filter_string or None,
            ViewType.parse(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    def list_run_infos(
        self, experiment_id: str | int, run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY
    ) -> list[RunInfo]:
        """Metadata of every run of an experiment (the R API's ``mlflow_list_run_infos``)."""
        out: list[RunInfo] = []
        token = None
        while True:
            page = self.search_runs([experiment_id], "", run_view_type, _PAGE, None, token)
            out.extend(run.info for run in page.items)
            token = page.token
            if not token:
                return out

    # -- artifacts ------------------------------------------------------------------------
    def artifact_repository(self, run_id: str) -> Any:
        """The artifact repository rooted at the run's ``artifact_uri``."""
        uri = self.get_run(run_id).info.artifact_uri
        # A store may know where its URIs live: the REST store resolves ``mlflow-artifacts:``
        # against its own server, whatever the process-wide tracking URI is.
        resolve = getattr(self.store, "resolve_artifact_uri", None)
        return self.plugin_manager.artifact_repository(resolve(uri) if resolve else uri)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """Log one file, or a directory's contents (as the R API's ``mlflow_log_artifact``)."""
        local_path = os.fspath(local_path)
        if os.path.isdir(local_path):
            self.log_artifacts(run_id, local_path, artifact_path)
            return
        if not os.path.isfile(local_path):
            raise HeadwaterError.invalid(f"No such file or directory: {local_path!r}")
        self.artifact_repository(run_id).log_artifact(local_path, artifact_path)
        name = os.path.basename(local_path)
        self.service.artifacts_logged(run_id, artifact_path, [posixpath.join(artifact_path or "", name)])

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        """Log a directory's contents, recursively, under ``artifact_path``."""
        local_dir = os.fspath(local_dir)
        if not os.path.isdir(local_dir):
            raise HeadwaterError.invalid(f"Not a directory: {local_dir!r}")
        self.artifact_repository(run_id).log_artifacts(local_dir, artifact_path)
        files = []
        for dirpath, _, filenames in os.walk(local_dir):
            rel = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
            for name in filenames:
                files.append(posixpath.normpath(posixpath.join(artifact_path or "", rel, name)))
        self.service.artifacts_logged(run_id, artifact_path, sorted(files))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self.artifact_repository(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        """Download a file or directory of the run's artifacts; returns the local path."""
        return self.artifact_repository(run_id).download_artifacts(path or "", dst_path)
