"""An in-memory TrackingStore: dictionaries guarded by one lock.

Search uses the core's pure-Python evaluator of the filter grammar, which is
what a store that cannot compile filters to a query language should do.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Sequence

from headwater import validation as v
from headwater.entities import (
    DatasetInput,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.search import parse_filter, parse_order_by
from headwater.search.evaluate import matches_experiment, matches_run, sort_experiments, sort_runs
from headwater.store.paging import decode_page_token, encode_page_token
from headwater.store.tracking import DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, TrackingStore
from headwater.tracking.names import random_run_name

RUN_NAME_TAG = "mlflow.runName"


def _now() -> int:
    return int(time.time() * 1000)


@dataclass
class _RunRecord:
    info: RunInfo
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[Metric]] = field(default_factory=dict)
    latest: dict[str, Metric] = field(default_factory=dict)
    inputs: list[DatasetInput] = field(default_factory=list)

    def snapshot(self) -> Run:
        data = RunData(latest_metrics=list(self.latest.values()), params=dict(self.params), tags=dict(self.tags))
        return Run(info=self.info.model_copy(), data=data, inputs=RunInputs(dataset_inputs=list(self.inputs)))


def _latest_key(m: Metric) -> tuple[int, int, float]:
    # NaN compares as the stored placeholder 0, as SQL stores keep it.
    return (m.step, m.timestamp, 0.0 if math.isnan(m.value) else m.value)


class MemoryTrackingStore(TrackingStore):
    def __init__(self, store_uri: str = "memory://", artifact_uri: str | None = None):
        self.store_uri = store_uri
        self.artifact_root = artifact_uri or os.path.join(tempfile.gettempdir(), "headwater-memory-artifacts")
        self._lock = threading.RLock()
        self._experiments: dict[str, Experiment] = {}
        self._runs: dict[str, _RunRecord] = {}
        self._next_experiment_id = 0
        self.create_experiment(DEFAULT_EXPERIMENT_NAME)

    # -- helpers ---------------------------------------------------------------------
    def _experiment(self, experiment_id: str) -> Experiment:
        key = v.validate_experiment_id(experiment_id)
        if key not in self._experiments:
            raise HeadwaterError.not_found(f"No Experiment with id={experiment_id} exists")
        return self._experiments[key]

    def _active_experiment(self, experiment_id: str) -> Experiment:
        exp = self._experiment(experiment_id)
        if exp.lifecycle_stage != LifecycleStage.ACTIVE:
            raise HeadwaterError.invalid(
                f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
            )
        return exp

    def _run(self, run_id: str) -> _RunRecord:
        if run_id not in self._runs:
            raise HeadwaterError.not_found(f"Run with id={run_id} not found")
        return self._runs[run_id]

    def _active_run(self, run_id: str) -> _RunRecord:
        record = self._run(run_id)
        if record.info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise HeadwaterError.invalid(
                f"The run {run_id} must be in the 'active' state. Current state is deleted."
            )
        return record

    def _touch(self, exp: Experiment) -> None:
        exp.last_update_time = _now()

    # -- experiments --------------------------------------------------------------------
    def create_experiment(self, name, artifact_location=None, tags=None) -> str:
        v.validate_experiment_name(name)
        v.validate_artifact_location(artifact_location)
        tag_items = list(tags.items()) if isinstance(tags, dict) else [
            (t.key, t.value) if hasattr(t, "key") else tuple(t) for t in tags or ()
        ]
        for key, value in tag_items:
            v.validate_experiment_tag(key, value)
        with self._lock:
            if any(e.name == name for e in self._experiments.values()):
                raise HeadwaterError.already_exists(f"Experiment(name={name}) already exists.")
            experiment_id = str(self._next_experiment_id)
            self._next_experiment_id += 1
            now = _now()
            self._experiments[experiment_id] = Experiment(
                experiment_id=experiment_id,
                name=name,
                artifact_location=artifact_location or f"{self.artifact_root.rstrip('/')}/{experiment_id}",
                creation_time=now,
                last_update_time=now,
                tags=dict(tag_items),
            )
            return experiment_id

    def get_experiment(self, experiment_id) -> Experiment:
        with self._lock:
            return self._experiment(experiment_id).model_copy(deep=True)

    def get_experiment_by_name(self, name) -> Experiment | None:
        with self._lock:
            for exp in self._experiments.values():
                if exp.name == name:
                    return exp.model_copy(deep=True)
        return None

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY, max_results=1000, filter_string=None,
                           order_by=None, page_token=None) -> PagedList[Experiment]:
        max_results = v.validate_max_results(max_results, 1000, v.SEARCH_MAX_RESULTS_LIMIT, "experiments")
        comparisons = parse_filter(filter_string, "experiments")
        keys = parse_order_by(order_by, "experiments")
        offset = decode_page_token(page_token)
        stages = ViewType.parse(view_type).stages
        with self._lock:
            found = [e for e in self._experiments.values()
                     if e.lifecycle_stage in stages and matches_experiment(e, comparisons)]
            found = [e.model_copy(deep=True) for e in sort_experiments(found, keys)]
        return _page(found, offset, max_results)

    def delete_experiment(self, experiment_id) -> None:
        with self._lock:
            exp = self._experiment(experiment_id)
            if exp.lifecycle_stage == LifecycleStage.DELETED:
                raise HeadwaterError.not_found(f"Experiment {experiment_id} is already deleted.")
            exp.lifecycle_stage = LifecycleStage.DELETED
            self._touch(exp)
            for record in self._runs.values():
                if record.info.experiment_id == exp.experiment_id:
                    record.info.lifecycle_stage = LifecycleStage.DELETED

    def restore_experiment(self, experiment_id) -> None:
        with self._lock:
            exp = self._experiment(experiment_id)
            if exp.lifecycle_stage != LifecycleStage.DELETED:
                raise HeadwaterError.not_found(f"Experiment {experiment_id} is not deleted.")
            exp.lifecycle_stage = LifecycleStage.ACTIVE
            self._touch(exp)
            for record in self._runs.values():
                if record.info.experiment_id == exp.experiment_id:
                    record.info.lifecycle_stage = LifecycleStage.ACTIVE

    def rename_experiment(self, experiment_id, new_name) -> None:
        v.validate_experiment_name(new_name)
        with self._lock:
            exp = self._experiment(experiment_id)
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise HeadwaterError(
                    "Cannot rename a non-active experiment.", ErrorCode.INVALID_STATE
                )
            if any(e.name == new_name and e is not exp for e in self._experiments.values()):
                raise HeadwaterError(f"Experiment(name={new_name}) already exists.", ErrorCode.BAD_REQUEST)
            exp.name = new_name
            self._touch(exp)

    def set_experiment_tag(self, experiment_id, key, value) -> None:
        v.validate_experiment_tag(key, value)
        with self._lock:
            exp = self._active_experiment(experiment_id)
            exp.tags[key] = value

    def delete_experiment_tag(self, experiment_id, key) -> None:
        with self._lock:
            exp = self._active_experiment(experiment_id)
            if key not in exp.tags:
                raise HeadwaterError.not_found(f"No tag with name: {key} in experiment with id {experiment_id}")
            del exp.tags[key]

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, experiment_id, user_id=None, start_time=None, tags=None, run_name=None) -> Run:
        tags = [v.validate_tag(t) for t in tags or ()]
        tag_map = {t.key: t.value for t in tags}
        named = tag_map.get(RUN_NAME_TAG)
        if run_name and named and run_name != named:
            raise HeadwaterError.invalid(
                f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different"
                f" values (run_name='{run_name}', mlflow.runName='{named}')."
            )
        name = run_name or named or random_run_name()
        tag_map[RUN_NAME_TAG] = name
        with self._lock:
            exp = self._active_experiment(experiment_id)
            run_id = uuid.uuid4().hex
            info = RunInfo(
                run_id=run_id,
                experiment_id=exp.experiment_id,
                run_name=name,
                user_id=user_id or "",
                status=RunStatus.RUNNING,
                start_time=start_time if start_time is not None else _now(),
                artifact_uri=f"{exp.artifact_location}/{run_id}/artifacts",
            )
            self._runs[run_id] = _RunRecord(info=info, tags=tag_map)
            return self._runs[run_id].snapshot()

    def get_run(self, run_id) -> Run:
        with self._lock:
            return self._run(run_id).snapshot()

    def update_run_info(self, run_id, run_status=None, end_time=None, run_name=None) -> RunInfo:
        with self._lock:
            record = self._active_run(run_id)
            if run_status is not None:
                record.info.status = RunStatus.parse(run_status)
            if end_time is not None:
                record.info.end_time = end_time
            elif record.info.status == RunStatus.RUNNING:
                record.info.end_time = None  # a resumed run has not ended
            if run_name:
                record.info.run_name = run_name
                record.tags[RUN_NAME_TAG] = run_name
            return record.info.model_copy()

    def delete_run(self, run_id) -> None:
        with self._lock:
            self._run(run_id).info.lifecycle_stage = LifecycleStage.DELETED

    def restore_run(self, run_id) -> None:
        with self._lock:
            self._run(run_id).info.lifecycle_stage = LifecycleStage.ACTIVE

    def log_metric(self, run_id, metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id, param) -> None:
        param = v.validate_param(param)
        with self._lock:
            record = self._active_run(run_id)
            old = record.params.get(param.key)
            if old is not None and old != param.value:
                raise HeadwaterError.invalid(v.param_conflict_message(run_id, param.key, old, param.value))
            record.params[param.key] = param.value

    def set_tag(self, run_id, tag) -> None:
        self.log_batch(run_id, tags=[tag])

    def delete_tag(self, run_id, key) -> None:
        with self._lock:
            record = self._active_run(run_id)
            if key not in record.tags:
                raise HeadwaterError.not_found(f"No tag with name: {key} in run with id {run_id}")
            del record.tags[key]

    def log_batch(self, run_id, metrics=(), params=(), tags=()) -> None:
        metrics, params, tags = v.validate_batch(metrics, params, tags)
        with self._lock:
            record = self._active_run(run_id)
            # Check everything before changing anything: all or nothing.
            conflicts = [(p.key, record.params[p.key], p.value) for p in params
                         if p.key in record.params and record.params[p.key] != p.value]
            if conflicts:
                raise HeadwaterError.invalid(v.batch_param_conflict_message(run_id, conflicts))
            for p in params:
                record.params[p.key] = p.value
            for m in metrics:
                point = m.model_copy(update={"run_id": None})
                history = record.history.setdefault(m.key, [])
                if point not in history:
                    history.append(point)
                current = record.latest.get(m.key)
                if current is None or _latest_key(point) > _latest_key(current):
                    record.latest[m.key] = point
            for t in tags:
                record.tags[t.key] = t.value
                if t.key == RUN_NAME_TAG:
                    record.info.run_name = t.value

    def log_inputs(self, run_id, datasets=()) -> None:
        with self._lock:
            record = self._active_run(run_id)
            for dataset_input in datasets:
                if dataset_input not in record.inputs:
                    record.inputs.append(dataset_input)

    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None) -> PagedList[Metric]:
        with self._lock:
            points = list(self._run(run_id).history.get(metric_key, ()))
        points.sort(key=lambda m: (m.timestamp, m.step, m.value))
        if max_results is None:
            return PagedList(items=points)
        return _page(points, decode_page_token(page_token), v.validate_max_results(max_results, 1, 1 << 62, "history"))

    def search_runs(self, experiment_ids, filter_string=None, run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=1000, order_by=None, page_token=None) -> PagedList[Run]:
        max_results = v.validate_max_results(max_results, 1000, v.SEARCH_MAX_RESULTS_LIMIT, "runs")
        comparisons = parse_filter(filter_string, "runs")
        keys = parse_order_by(order_by, "runs")
        offset = decode_page_token(page_token)
        stages = ViewType.parse(run_view_type).stages
        wanted = {v.validate_experiment_id(e) for e in experiment_ids}
        with self._lock:
            runs = [r.snapshot() for r in self._runs.values()
                    if r.info.experiment_id in wanted and r.info.lifecycle_stage in stages]
        runs = sort_runs([r for r in runs if matches_run(r, comparisons)], keys)
        return _page(runs, offset, max_results)


def _page(items: Sequence, offset: int, max_results: int) -> PagedList:
    window = list(items[offset:offset + max_results])
    more = len(items) > offset + max_results
    return PagedList(items=window, token=encode_page_token(offset + max_results) if more else None)
