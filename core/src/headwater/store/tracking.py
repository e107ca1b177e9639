"""The tracking store interface every tracking-store plugin implements.

A store owns persistence of experiments, runs, params, metrics, tags and
dataset inputs. It validates input with :mod:`headwater.validation`, raises
:class:`~headwater.exceptions.HeadwaterError` with MLflow's error codes, and
writes nothing when it rejects a call. It does not send events: the core wraps
every store (see :mod:`headwater.tracking.service`) and announces each
successful mutation after the store returns.

Plugin authors check a store against this contract with the conformance kit in
:mod:`headwater.testing`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Sequence

from headwater.entities import (
    DatasetInput,
    Experiment,
    Metric,
    MetricBucket,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunKeys,
    RunStatus,
    RunTag,
    ViewType,
)

from headwater.store.logged_models import LoggedModelStore

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


class TrackingStore(LoggedModelStore, ABC):
    """Abstract tracking store. Ids are strings; times are int64 milliseconds.

    Logged models are optional: see :class:`~headwater.store.logged_models.LoggedModelStore`.
    """

    # -- experiments -------------------------------------------------------
    @abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | dict[str, str] | None = None,
    ) -> str:
        """Create an experiment and return its id.

        A name already taken, even by a deleted experiment, raises
        RESOURCE_ALREADY_EXISTS. With no ``artifact_location`` the store uses
        ``<artifact root>/<experiment id>``.
        """

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment, deleted or not; RESOURCE_DOES_NOT_EXIST if unknown."""

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this exact name (deleted included), or None."""

    @abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching the filter grammar of search-grammar.md §3."""

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and all its runs."""

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Restore the experiment and every one of its runs."""

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename; a deleted experiment raises INVALID_STATE."""

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Insert or replace an experiment tag."""

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove an experiment tag; RESOURCE_DOES_NOT_EXIST if absent."""

    # -- runs ----------------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Sequence[RunTag] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run. The name and the ``mlflow.runName`` tag agree."""

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs."""

    @abstractmethod
    def update_run_info(
        self,
        run_id: str,
        run_status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change status, end time or name of an active run.

        ``None`` leaves a field unchanged, except that moving a run back to
        RUNNING without an ``end_time`` clears its end time (a resumed run).
        """

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete (idempotent)."""

    @abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Undo a soft delete (idempotent)."""

    @abstractmethod
    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Append a metric point to an active run."""

    @abstractmethod
    def log_param(self, run_id: str, param: Param) -> None:
        """Log a param; a different value for an existing key is refused."""

    @abstractmethod
    def set_tag(self, run_id: str, tag: RunTag) -> None:
        """Insert or replace a run tag; ``mlflow.runName`` renames the run."""

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag; RESOURCE_DOES_NOT_EXIST if absent."""

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log many items at once: all of them, or (on any error) none."""

    @abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] = ()) -> None:
        """Record dataset inputs of a run."""

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of a metric, ordered by (timestamp, step, value)."""

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching the filter grammar of search-grammar.md §2."""

    # -- optional, with portable defaults --------------------------------------
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """Up to ``max_results`` points per run between two steps, evenly sampled.

        The first and last step of each run are always kept. Stores with a
        cheaper way to sample override this.
        """
        out: list[Metric] = []
        for run_id in run_ids:
            points = [
                m
                for m in self.get_metric_history(run_id, metric_key).items
                if (start_step is None or m.step >= start_step)
                and (end_step is None or m.step <= end_step)
            ]
            points.sort(key=lambda m: (m.step, m.timestamp))
            out.extend(m.model_copy(update={"run_id": run_id}) for m in sample_evenly(points, max_results))
        return out

    def get_metric_history_downsampled(
        self,
        run_id: str,
        metric_key: str,
        max_buckets: int = 1000,
        x_axis: str = "step",
        x_min: int | None = None,
        x_max: int | None = None,
    ) -> list[MetricBucket]:
        """A metric's history in at most ``max_buckets`` buckets, in x order.

        ``x_axis`` is ``"step"`` or ``"timestamp"``; ``x_min``/``x_max`` bound it
        (inclusive). Each bucket covers a range of x that no other bucket
        overlaps (neighbours may share an end value when several points share
        it); this default cuts the x range into equal parts. With no more points
        than buckets every point is its own bucket. Stores that can aggregate in
        their database override this.
        """
        points = [
            m
            for m in self.get_metric_history(run_id, metric_key).items
            if (x_min is None or _x(m, x_axis) >= x_min) and (x_max is None or _x(m, x_axis) <= x_max)
        ]
        points.sort(key=lambda m: (_x(m, x_axis), m.timestamp, m.step))
        return bucket_points([(_x(m, x_axis), m.value) for m in points], max_buckets)

    def list_run_keys(self, experiment_ids: Sequence[str], max_runs: int = 1000) -> RunKeys:
        """The param, metric and tag keys used by the ``max_runs`` most recent runs of these experiments.

        Deleted runs count too. Stores that can ask their database for distinct
        keys override this (the portable default loads the runs).
        """
        params: set[str] = set()
        metrics: set[str] = set()
        tags: set[str] = set()
        for run in self.search_runs(list(experiment_ids), run_view_type=ViewType.ALL, max_results=max_runs):
            params.update(run.data.params)
            metrics.update(m.key for m in run.data.latest_metrics)
            tags.update(run.data.tags)
        return RunKeys(params=sorted(params), metrics=sorted(metrics), tags=sorted(tags))

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""


def sample_evenly(points: list[Metric], max_points: int) -> list[Metric]:
    """Keep ``max_points`` points spread over the list, first and last included."""
    if len(points) <= max_points:
        return points
    if max_points <= 1:
        return points[:1]
    stride = (len(points) - 1) / (max_points - 1)
    return [points[round(i * stride)] for i in range(max_points)]


def _x(metric: Metric, x_axis: str) -> int:
    return metric.timestamp if x_axis == "timestamp" else metric.step


def bucket_points(points: Sequence[tuple[int, float]], max_buckets: int) -> list[MetricBucket]:
    """Group (x, value) points, sorted by x, into at most ``max_buckets`` equal x ranges."""
    if len(points) <= max_buckets:
        return [MetricBucket(x_first=x, x_last=x, min=v, max=v, count=1) for x, v in points]
    lo, hi = points[0][0], points[-1][0]
    span = hi - lo + 1
    grouped: dict[int, list[tuple[int, float]]] = {}
    for x, v in points:
        grouped.setdefault((x - lo) * max_buckets // span, []).append((x, v))
    out = []
    for members in grouped.values():  # insertion order is x order
        values = [v for _, v in members if not math.isnan(v)]
        out.append(
            MetricBucket(
                x_first=members[0][0],
                x_last=members[-1][0],
                min=min(values) if values else math.nan,
                max=max(values) if values else math.nan,
                count=len(members),
            )
        )
    return out
