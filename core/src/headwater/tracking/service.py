"""The tracking service: a store plus the events its mutations raise.

Every caller that changes tracking data (the Python client, the server's
handlers) goes through a :class:`TrackingService`, so an observer sees the same
events whichever door the change came in by. Events are published after the
store call returned, i.e. after the store committed; a store error raises no
event. A store with an event outbox (the SQL store on the server) writes the
events in the same transaction as the change instead
(:mod:`headwater.events.outbox`). Reads pass straight through to the store.
"""

from __future__ import annotations

from typing import Any, Sequence

from headwater.entities import (
    DatasetInput,
    LoggedModel,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
)
from headwater.events import EventBus, get_event_bus
from headwater.events import catalogue as ev
from headwater.events.outbox import Announcer
from headwater.store.tracking import TrackingStore


def tag_dict(tags: Any) -> dict[str, str]:
    """Tags given as a dict, (key, value) pairs or tag entities, as a dict."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {t.key: t.value for t in tags} if hasattr(next(iter(tags)), "key") else {k: v for k, v in tags}


class TrackingService:
    """Wraps a :class:`TrackingStore`; mutations announce events on ``bus``."""

    def __init__(self, store: TrackingStore, bus: EventBus | None = None):
        self.store = store
        self.bus = bus or get_event_bus()
        self._announce = Announcer(store, self.bus)

    def __getattr__(self, name: str) -> Any:
        # Reads (get_*, search_*) and store extras need no events.
        return getattr(self.store, name)

    # -- experiments ------------------------------------------------------------
    def create_experiment(self, name: str, artifact_location: str | None = None, tags: Any = None) -> str:
        with self._announce("create_experiment") as emit:
            experiment_id = self.store.create_experiment(name, artifact_location, tags)
            emit(ev.ExperimentCreated, experiment_id=experiment_id, name=name,
                 artifact_location=artifact_location, tags=tag_dict(tags))
        return experiment_id

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        with self._announce("rename_experiment") as emit:
            self.store.rename_experiment(experiment_id, new_name)
            emit(ev.ExperimentRenamed, experiment_id=experiment_id, new_name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        with self._announce("delete_experiment") as emit:
            self.store.delete_experiment(experiment_id)
            emit(ev.ExperimentRef, experiment_id=experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        with self._announce("restore_experiment") as emit:
            self.store.restore_experiment(experiment_id)
            emit(ev.ExperimentRef, experiment_id=experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        with self._announce("set_experiment_tag") as emit:
            self.store.set_experiment_tag(experiment_id, key, value)
            emit(ev.ExperimentTagSet, experiment_id=experiment_id, key=key, value=value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._announce("delete_experiment_tag") as emit:
            self.store.delete_experiment_tag(experiment_id, key)
            emit(ev.ExperimentTagDeleted, experiment_id=experiment_id, key=key)

    # -- runs -------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Sequence[RunTag] | None = None,
        run_name: str | None = None,
    ) -> Run:
        with self._announce("create_run") as emit:
            run = self.store.create_run(experiment_id, user_id, start_time, tags, run_name)
            info = run.info
            emit(ev.RunCreated, run_id=info.run_id, experiment_id=info.experiment_id, run_name=info.run_name,
                 user_id=info.user_id, start_time=info.start_time, tags=run.data.tags)
        return run

    def update_run_info(
        self,
        run_id: str,
        run_status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        with self._announce("update_run") as emit:
            info = self.store.update_run_info(run_id, run_status, end_time, run_name)
            emit(ev.RunUpdated, run_id=run_id, status=info.status.value, end_time=info.end_time,
                 run_name=info.run_name)
        return info

    def delete_run(self, run_id: str) -> None:
        with self._announce("delete_run") as emit:
            self.store.delete_run(run_id)
            emit(ev.RunRef, run_id=run_id)

    def restore_run(self, run_id: str) -> None:
        with self._announce("restore_run") as emit:
            self.store.restore_run(run_id)
            emit(ev.RunRef, run_id=run_id)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        with self._announce("log_metric") as emit:
            self.store.log_metric(run_id, metric)
            emit(ev.MetricLogged, run_id=run_id, key=metric.key, value=metric.value,
                 timestamp=metric.timestamp, step=metric.step)

    def log_param(self, run_id: str, param: Param) -> None:
        with self._announce("log_param") as emit:
            self.store.log_param(run_id, param)
            emit(ev.ParamLogged, run_id=run_id, key=param.key, value=param.value)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        with self._announce("set_tag") as emit:
            self.store.set_tag(run_id, tag)
            emit(ev.TagSet, run_id=run_id, key=tag.key, value=tag.value)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._announce("delete_tag") as emit:
            self.store.delete_tag(run_id, key)
            emit(ev.TagDeleted, run_id=run_id, key=key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        with self._announce("log_batch") as emit:
            self.store.log_batch(run_id, metrics, params, tags)
            emit(ev.BatchLogged, run_id=run_id, metrics=list(metrics), params=list(params), tags=list(tags))

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] = ()) -> None:
        with self._announce("log_inputs") as emit:
            self.store.log_inputs(run_id, datasets)
            emit(ev.InputsLogged, run_id=run_id, datasets=list(datasets))

    def artifacts_logged(self, run_id: str, artifact_path: str | None, files: list[str]) -> None:
        """Announce artifacts written for a run (artifact repositories do not know runs)."""
        with self._announce("log_artifact") as emit:
            emit(ev.ArtifactsLogged, run_id=run_id, artifact_path=artifact_path, files=files)

    # -- logged models ---------------------------------------------------------------------
    def create_logged_model(self, experiment_id: str, name: str | None = None, source_run_id: str | None = None,
                            tags: Any = None, params: Any = None, model_type: str | None = None) -> LoggedModel:
        with self._announce("create_logged_model") as emit:
            model = self.store.create_logged_model(experiment_id, name, source_run_id, tags, params, model_type)
            emit(ev.LoggedModelCreated, model_id=model.model_id, experiment_id=model.experiment_id, name=model.name,
                 source_run_id=model.source_run_id, model_type=model.model_type, tags=dict(model.tags),
                 params=dict(model.params))
        return model

    def finalize_logged_model(self, model_id: str, status: Any) -> LoggedModel:
        with self._announce("finalize_logged_model") as emit:
            model = self.store.finalize_logged_model(model_id, status)
            emit(ev.LoggedModelFinalized, model_id=model_id, status=model.status.value)
        return model

    def delete_logged_model(self, model_id: str) -> None:
        with self._announce("delete_logged_model") as emit:
            self.store.delete_logged_model(model_id)
            emit(ev.LoggedModelRef, model_id=model_id)

    def set_logged_model_tags(self, model_id: str, tags: Any) -> None:
        with self._announce("set_logged_model_tags") as emit:
            self.store.set_logged_model_tags(model_id, tags)
            emit(ev.LoggedModelTagsSet, model_id=model_id, tags=tag_dict(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._announce("delete_logged_model_tag") as emit:
            self.store.delete_logged_model_tag(model_id, key)
            emit(ev.LoggedModelTagDeleted, model_id=model_id, key=key)

    def log_logged_model_params(self, model_id: str, params: Any) -> None:
        with self._announce("log_logged_model_params") as emit:
            self.store.log_logged_model_params(model_id, params)
            emit(ev.LoggedModelParamsLogged, model_id=model_id, params=tag_dict(params))

    def log_outputs(self, run_id: str, models: Sequence[Any]) -> None:
        outputs = [m if isinstance(m, LoggedModelOutput) else LoggedModelOutput(model_id=m[0], step=m[1])
                   for m in models]
        with self._announce("log_outputs") as emit:
            self.store.log_outputs(run_id, outputs)
            emit(ev.OutputsLogged, run_id=run_id, models=outputs)
