"""A :class:`~headwater.store.TrackingStore` that forwards every call to a tracking server.

Works against ``headwater server`` and ``mlflow server`` alike: requests and
answers are MLflow's REST API (spec/rest-api.md §4), and the server's
``{error_code, message}`` comes back as a :class:`HeadwaterError` with the
same code, so callers cannot tell this store from a local one by its errors.
"""

from __future__ import annotations

from typing import Any, Sequence

from headwater.entities import (
    DatasetInput,
    Experiment,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.tracking import TrackingStore
from headwater_store_rest import wire
from headwater_store_rest.logged_models import RestLoggedModels
from headwater_store_rest.transport import HttpConfig, RestClient


class RestStore(RestLoggedModels, TrackingStore):
    """Tracking store for ``http://`` and ``https://`` tracking URIs."""

    def __init__(self, tracking_uri: str, config: HttpConfig | None = None):
        self.tracking_uri = tracking_uri.rstrip("/")
        self.client = RestClient(self.tracking_uri, config)

    def _get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        return self.client.call("GET", endpoint, params=query)

    def _post(self, endpoint: str, **body: Any) -> dict[str, Any]:
        return self.client.call("POST", endpoint, body={k: v for k, v in body.items() if v is not None})

    # -- experiments -------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | dict[str, str] | None = None,
    ) -> str:
        answer = self._post(
            "experiments/create",
            name=name,
            artifact_location=artifact_location or None,
            tags=wire.key_values(tags),
        )
        return str(answer["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return wire.experiment(self._get("experiments/get", experiment_id=str(experiment_id))["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._get("experiments/get-by-name", experiment_name=name)
        except HeadwaterError as err:
            if err.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST:
                return None
            raise
        return wire.experiment(answer["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        answer = self._post(
            "experiments/search",
            view_type=ViewType.parse(view_type).value,
            max_results=1000 if max_results is None else max_results,  # the REST API has no default
            filter=filter_string or None,
            order_by=list(order_by or []),
            page_token=page_token or None,
        )
        return PagedList[Experiment](
            items=[wire.experiment(e) for e in answer.get("experiments", ())],
            token=answer.get("next_page_token") or None,
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._post("experiments/delete", experiment_id=str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._post("experiments/restore", experiment_id=str(experiment_id))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._post("experiments/update", experiment_id=str(experiment_id), new_name=new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._post("experiments/set-experiment-tag", experiment_id=str(experiment_id), key=key, value=value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._post("experiments/delete-experiment-tag", experiment_id=str(experiment_id), key=key)

    # -- runs ---------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Sequence[RunTag] | None = None,
        run_name: str | None = None,
    ) -> Run:
        answer = self._post(
            "runs/create",
            experiment_id=str(experiment_id),
            user_id=user_id,
            start_time=start_time,
            tags=wire.key_values(tags),
            run_name=run_name,
        )
        return wire.run(answer["run"])

    def get_run(self, run_id: str) -> Run:
        return wire.run(self._get("runs/get", run_id=run_id)["run"])

    def update_run_info(
        self,
        run_id: str,
        run_status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        answer = self._post(
            "runs/update",
            run_id=run_id,
            status=RunStatus.parse(run_status).value if run_status is not None else None,
            end_time=end_time,
            run_name=run_name,
        )
        return wire.run_info(answer["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._post("runs/delete", run_id=run_id)

    def restore_run(self, run_id: str) -> None:
        self._post("runs/restore", run_id=run_id)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self._post("runs/log-metric", run_id=run_id, **wire.metric_json(metric))

    def log_param(self, run_id: str, param: Param) -> None:
        self._post("runs/log-parameter", run_id=run_id, key=param.key, value=param.value)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self._post("runs/set-tag", run_id=run_id, key=tag.key, value=tag.value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post("runs/delete-tag", run_id=run_id, key=key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self._post(
            "runs/log-batch",
            run_id=run_id,
            metrics=[wire.metric_json(m) for m in metrics],
            params=wire.key_values(params),
            tags=wire.key_values(tags),
        )

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] = ()) -> None:
        self._post("runs/log-inputs", run_id=run_id, datasets=[wire.dataset_input_json(d) for d in datasets])

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        answer = self._get(
            "metrics/get-history",
            run_id=run_id,
            metric_key=metric_key,
            max_results=max_results,
            page_token=page_token or None,
        )
        return PagedList[Metric](
            items=[wire.metric(m, run_id) for m in answer.get("metrics", ())],
            token=answer.get("next_page_token") or None,
        )

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        answer = self._post(
            "runs/search",
            experiment_ids=[str(e) for e in experiment_ids],
            filter=filter_string or None,
            run_view_type=ViewType.parse(run_view_type).value,
            max_results=1000 if max_results is None else max_results,
            order_by=list(order_by or []),
            page_token=page_token or None,
        )
        return PagedList[Run](
            items=[wire.run(r) for r in answer.get("runs", ())],
            token=answer.get("next_page_token") or None,
        )

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        answer = self._get(
            "metrics/get-history-bulk-interval",
            run_ids=list(run_ids),
            metric_key=metric_key,
            max_results=max_results,
            start_step=start_step,
            end_step=end_step,
        )
        return [wire.metric(m) for m in answer.get("metrics", ())]

    def resolve_artifact_uri(self, artifact_uri: str) -> str:
        """``mlflow-artifacts:`` URIs as URLs on this store's server; other URIs unchanged.

        A client that talks to this store hands run artifact URIs through here
        before asking for a repository, so ``mlflow-artifacts:/...`` reaches the
        server the runs came from even when the process-wide tracking URI differs.
        """
        if artifact_uri.startswith("mlflow-artifacts:"):
            from headwater_store_rest.artifacts import resolve_artifact_uri

            return resolve_artifact_uri(artifact_uri, self.tracking_uri)
        return artifact_uri

    def close(self) -> None:
        self.client.close()
