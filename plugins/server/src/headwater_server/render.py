"""Entities as MLflow renders them on the wire.

Proto field names; int64 as JSON numbers; enums by name; NaN as ``"NaN"`` and
infinities as ``"Infinity"``/``"-Infinity"`` (protobuf's JSON spelling); unset
fields and empty repeated fields left out. Plain dicts, serialised by orjson.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import orjson
from starlette.responses import Response

from headwater.entities import DatasetInput, Experiment, FileInfo, Metric, Run, RunInfo


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def wire_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in pairs.items()]


def experiment(exp: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
    }
    if exp.last_update_time:
        out["last_update_time"] = exp.last_update_time
    if exp.creation_time:
        out["creation_time"] = exp.creation_time
    if exp.tags:
        out["tags"] = key_values(exp.tags)
    return out


def run_info(info: RunInfo) -> dict[str, Any]:
    # Both names of the id: the R client reads run_uuid, newer clients run_id.
    out: dict[str, Any] = {"run_uuid": info.run_id, "experiment_id": info.experiment_id}
    if info.run_name is not None:
        out["run_name"] = info.run_name
    out["user_id"] = info.user_id or ""
    status = info.status
    out["status"] = status.value if hasattr(status, "value") else str(status)
    if info.start_time is not None:
        out["start_time"] = info.start_time
    if info.end_time:
        out["end_time"] = info.end_time
    if info.artifact_uri:
        out["artifact_uri"] = info.artifact_uri
    out["lifecycle_stage"] = info.lifecycle_stage
    out["run_id"] = info.run_id
    return out


def metric(m: Metric, with_run_id: bool = False) -> dict[str, Any]:
    value = m.value
    out: dict[str, Any] = {
        "key": m.key,
        "value": value if math.isfinite(value) else wire_float(value),
        "timestamp": m.timestamp,
        "step": m.step,
    }
    if m.model_id:
        out["model_id"] = m.model_id
    if m.dataset_name:
        out["dataset_name"] = m.dataset_name
    if m.dataset_digest:
        out["dataset_digest"] = m.dataset_digest
    if with_run_id and m.run_id:
        out["run_id"] = m.run_id
    return out


def metrics(items: Iterable[Metric], with_run_id: bool = False) -> list[dict[str, Any]]:
    return [metric(m, with_run_id) for m in items]


def dataset_input(item: DatasetInput) -> dict[str, Any]:
    ds = item.dataset
    dataset: dict[str, Any] = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
    }
    if ds.schema_:
        dataset["schema"] = ds.schema_
    if ds.profile:
        dataset["profile"] = ds.profile
    out: dict[str, Any] = {}
    if item.tags:
        out["tags"] = [{"key": t.key, "value": t.value} for t in item.tags]
    out["dataset"] = dataset
    return out


def run(r: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if r.data.latest_metrics:
        data["metrics"] = metrics(r.data.latest_metrics)
    if r.data.params:
        data["params"] = key_values(r.data.params)
    if r.data.tags:
        data["tags"] = key_values(r.data.tags)
    inputs: dict[str, Any] = {}
    if r.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [dataset_input(d) for d in r.inputs.dataset_inputs]
    model_inputs = getattr(r.inputs, "model_inputs", None)
    if model_inputs:
        inputs["model_inputs"] = [{"model_id": m.model_id} for m in model_inputs]
    out: dict[str, Any] = {"info": run_info(r.info), "data": data, "inputs": inputs}
    outputs = getattr(r, "outputs", None)
    model_outputs = getattr(outputs, "model_outputs", None) if outputs is not None else None
    out["outputs"] = (
        {"model_outputs": [{"model_id": m.model_id, "step": m.step} for m in model_outputs]}
        if model_outputs
        else {}
    )
    return out


def file_info(info: FileInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"path": info.path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        out["file_size"] = info.file_size
    return out


def page(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A search answer: empty lists and the last page's token are left out."""
    out: dict[str, Any] = {}
    if items:
        out[key] = items
    if token:
        out["next_page_token"] = token
    return out
