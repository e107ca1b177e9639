"""Logged models (MLflow 3) over REST: the endpoints of spec/rest-api.md §4.1.

Mixed into :class:`~headwater_store_rest.store.RestStore`. Against a server
without these endpoints (an MLflow 2 server) the calls fail with
ENDPOINT_NOT_FOUND, which is turned into NOT_IMPLEMENTED so that callers
fall back as they do for any store without logged models.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence
from urllib.parse import quote

from headwater.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus, Metric, PagedList
from headwater.exceptions import ErrorCode, HeadwaterError


def _key_values(items: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in (items or {}).items()]


def logged_model(data: Mapping[str, Any]) -> LoggedModel:
    info = data.get("info", {})
    body = data.get("data", {})
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_uri=info.get("artifact_uri", ""),
        status=LoggedModelStatus.parse(info.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED")),
        creation_timestamp=int(info.get("creation_timestamp_ms") or 0),
        last_updated_timestamp=int(info.get("last_updated_timestamp_ms") or 0),
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        status_message=info.get("status_message") or None,
        tags={t["key"]: t.get("value", "") for t in info.get("tags", ())},
        params={p["key"]: p.get("value", "") for p in body.get("params", ())},
        metrics=[
            Metric(key=m["key"], value=float(m.get("value", 0.0)), timestamp=int(m.get("timestamp") or 0),
                   step=int(m.get("step") or 0), model_id=info["model_id"])
            for m in body.get("metrics", ())
        ],
    )


class RestLoggedModels:
    """Logged-model methods of the REST store (needs ``client``, a RestClient)."""

    client: Any

    def _call(self, method: str, endpoint: str, body: dict[str, Any] | None = None,
              params: Any = None) -> dict[str, Any]:
        try:
            return self.client.call(method, endpoint, body=body, params=params)
        except HeadwaterError as err:
            if err.error_code == ErrorCode.ENDPOINT_NOT_FOUND:
                raise HeadwaterError(
                    f"The tracking server has no logged-model endpoints ({method} {endpoint}).",
                    ErrorCode.NOT_IMPLEMENTED,
                ) from None
            raise

    @staticmethod
    def _path(model_id: str) -> str:
        return f"logged-models/{quote(model_id, safe='')}"

    def create_logged_model(self, experiment_id, name=None, source_run_id=None, tags=None, params=None,
                            model_type=None) -> LoggedModel:
        body = {"experiment_id": str(experiment_id), "name": name, "source_run_id": source_run_id,
                "model_type": model_type, "tags": _key_values(tags), "params": _key_values(params)}
        answer = self._call("POST", "logged-models", {k: v for k, v in body.items() if v not in (None, [])})
        return logged_model(answer["model"])

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        query = {"allow_deleted": "true"} if allow_deleted else None
        return logged_model(self._call("GET", self._path(model_id), params=query)["model"])

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        body = {"model_id": model_id, "status": LoggedModelStatus.parse(status).value}
        return logged_model(self._call("PATCH", self._path(model_id), body)["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._call("DELETE", self._path(model_id), {"model_id": model_id})

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        self._call("PATCH", f"{self._path(model_id)}/tags", {"tags": _key_values(tags)})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._call("DELETE", f"{self._path(model_id)}/tags/{quote(key, safe='')}", {})

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        self._call("POST", f"{self._path(model_id)}/params", {"model_id": model_id, "params": _key_values(params)})

    def search_logged_models(self, experiment_ids: Sequence[str], filter_string: str | None = None,
                             datasets: Sequence[Mapping[str, Any]] | None = None, max_results: int | None = None,
                             order_by: Sequence[Mapping[str, Any]] | None = None,
                             page_token: str | None = None) -> PagedList[LoggedModel]:
        body: dict[str, Any] = {"experiment_ids": [str(e) for e in experiment_ids]}
        if filter_string:
            body["filter"] = filter_string
        if datasets:
            body["datasets"] = [dict(d) for d in datasets]
        if max_results is not None:
            body["max_results"] = max_results
        if order_by:
            body["order_by"] = [{k: v for k, v in dict(o).items() if v is not None} for o in order_by]
        if page_token:
            body["page_token"] = page_token
        answer = self._call("POST", "logged-models/search", body)
        return PagedList[LoggedModel](
            items=[logged_model(m) for m in answer.get("models", ())],
            token=answer.get("next_page_token") or None,
        )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self._call("POST", "runs/outputs",
                   {"run_id": run_id, "models": [{"model_id": m.model_id, "step": m.step} for m in models]})

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        self._call("POST", "runs/log-inputs", {"run_id": run_id, "models": [{"model_id": m} for m in model_ids]})
