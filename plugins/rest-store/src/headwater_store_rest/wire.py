"""MLflow's JSON shapes to Headwater entities and back (spec/rest-api.md §3).

Servers omit empty lists and unset fields, send int64 as numbers (or, from
some servers, strings) and non-finite doubles as ``"NaN"``/``"Infinity"``;
the readers here accept all of those.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from headwater.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _float(value: Any) -> float:
    # float() reads "NaN", "Infinity", "-Infinity", "Inf" and numbers alike.
    return float(value)


def _tags(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or ()}


def key_values(mapping: Mapping[str, str] | Iterable[Any] | None) -> list[dict[str, str]]:
    """Tags or params (dict, entities or pairs) as ``[{key, value}]``."""
    if not mapping:
        return []
    if isinstance(mapping, Mapping):
        return [{"key": str(k), "value": str(v)} for k, v in mapping.items()]
    out = []
    for item in mapping:
        if hasattr(item, "key"):
            out.append({"key": item.key, "value": item.value})
        else:
            key, value = item
            out.append({"key": str(key), "value": str(value)})
    return out


def experiment(data: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(data["experiment_id"]),
        name=data.get("name", ""),
        artifact_location=data.get("artifact_location", ""),
        lifecycle_stage=data.get("lifecycle_stage", "active"),
        creation_time=_int(data.get("creation_time")),
        last_update_time=_int(data.get("last_update_time")),
        tags=_tags(data.get("tags")),
    )


def metric(data: Mapping[str, Any], run_id: str | None = None) -> Metric:
    return Metric(
        key=data["key"],
        value=_float(data.get("value", 0.0)),
        timestamp=_int(data.get("timestamp")) or 0,
        step=_int(data.get("step")) or 0,
        run_id=data.get("run_id", run_id),
        dataset_name=data.get("dataset_name"),
        dataset_digest=data.get("dataset_digest"),
        model_id=data.get("model_id"),
    )


def metric_json(m: Metric) -> dict[str, Any]:
    out: dict[str, Any] = {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
    for name in ("dataset_name", "dataset_digest", "model_id"):
        if getattr(m, name) is not None:
            out[name] = getattr(m, name)
    return out


def run_info(data: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=data.get("run_id") or data["run_uuid"],
        experiment_id=str(data.get("experiment_id", "")),
        run_name=data.get("run_name", ""),
        user_id=data.get("user_id", ""),
        status=RunStatus.parse(data.get("status", "RUNNING")),
        start_time=_int(data.get("start_time")),
        end_time=_int(data.get("end_time")),
        artifact_uri=data.get("artifact_uri", ""),
        lifecycle_stage=data.get("lifecycle_stage", "active"),
    )


def dataset_input(data: Mapping[str, Any]) -> DatasetInput:
    ds = data.get("dataset", {})
    return DatasetInput(
        dataset=Dataset(
            name=ds.get("name", ""),
            digest=ds.get("digest", ""),
            source_type=ds.get("source_type", ""),
            source=ds.get("source", ""),
            schema=ds.get("schema"),
            profile=ds.get("profile"),
        ),
        tags=[InputTag(key=t["key"], value=t.get("value", "")) for t in data.get("tags", ())],
    )


def dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    ds = item.dataset
    dataset: dict[str, Any] = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
    }
    if ds.schema_ is not None:
        dataset["schema"] = ds.schema_
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    return {"tags": [{"key": t.key, "value": t.value} for t in item.tags], "dataset": dataset}


def run(data: Mapping[str, Any]) -> Run:
    info = run_info(data["info"])
    body = data.get("data", {})
    return Run(
        info=info,
        data=RunData(
            latest_metrics=[metric(m, info.run_id) for m in body.get("metrics", ())],
            params=_tags(body.get("params")),
            tags=_tags(body.get("tags")),
        ),
        inputs=RunInputs(
            dataset_inputs=[dataset_input(d) for d in data.get("inputs", {}).get("dataset_inputs", ())],
            model_inputs=[LoggedModelInput(model_id=m["model_id"]) for m in data.get("inputs", {}).get("model_inputs", ())],
        ),
        outputs=RunOutputs(
            model_outputs=[
                LoggedModelOutput(model_id=m["model_id"], step=int(m.get("step") or 0))
                for m in data.get("outputs", {}).get("model_outputs", ())
            ]
        ),
    )


def file_info(data: Mapping[str, Any], parent: str | None) -> FileInfo:
    name = data["path"]
    size = data.get("file_size")
    return FileInfo(
        path=f"{parent}/{name}" if parent else name,
        is_dir=bool(data.get("is_dir", False)),
        file_size=None if size is None else int(size),
    )
