"""The event catalogue: every tracking and model-registry event's name and payload.

Names are the ones the R API's external observers receive (``create_run``,
``log_metric``, ...). Each payload is a pydantic model; the event envelope
(:class:`Event`) adds a stable id, the time, and the actor where known.
"""

from __future__ import annotations

import functools
import json
import math
import time
import uuid

from typing import Any

import pydantic_core
from pydantic import BaseModel, Field, PrivateAttr, SerializeAsAny, create_model

from headwater.entities import DatasetInput, LoggedModelOutput, Metric, Param, RunTag


class Client(BaseModel):
    """Where a change came from: the client's address and user agent (server requests only)."""

    address: str | None = None
    user_agent: str | None = None


class Event(BaseModel):
    """One thing that happened, announced after the store committed it."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    name: str
    timestamp: int = Field(default_factory=lambda: int(time.time() * 1000))
    actor: str | None = None
    client: Client | None = None
    payload: SerializeAsAny[BaseModel]

    # The envelope as JSON text and data, kept once made: several observers serialize the same event.
    _json: str | None = PrivateAttr(default=None)
    _data: dict[str, Any] | None = PrivateAttr(default=None)
    _public: dict[str, Any] | None = PrivateAttr(default=None)

    def to_json(self) -> str:
        """The envelope as JSON, what the outbox stores; NaN and infinite metric values stay as such."""
        if self._json is None:
            if _all_finite(self.payload):  # the common case: pydantic's own serializer, much faster
                self._json = pydantic_core.to_json(self).decode("utf-8")
            else:  # its serializer writes NaN as null; the standard library keeps it
                self._json = json.dumps(self.model_dump(mode="json"), separators=(",", ":"))
        return self._json

    def data(self) -> dict[str, Any]:
        """The envelope as JSON data (NaN and infinite metric values stay floats); do not modify it."""
        if self._data is None:
            self._data = json.loads(self.to_json())
        return self._data

    def public_json(self) -> str:
        """The envelope as strict JSON text (NaN as "NaN"), for receivers outside Headwater."""
        text = self.to_json()
        if "NaN" not in text and "Infinity" not in text:
            return text
        return json.dumps(self.public_dict(), separators=(",", ":"))

    def public_dict(self) -> dict[str, Any]:
        """The envelope as strict JSON data (NaN as "NaN"), for receivers outside Headwater; do not modify it."""
        if self._public is None:
            text = self.to_json()
            self._public = self.data() if "NaN" not in text and "Infinity" not in text else json_safe(self.data())
        return self._public

    @classmethod
    def from_json(cls, text: str | bytes) -> "Event":
        """The envelope back from :meth:`to_json`, with the payload as its catalogue model."""
        raw = text.decode("utf-8") if isinstance(text, bytes) else text
        name = json.loads(raw[: raw.index(',"timestamp"')] + "}")["name"] if raw.startswith('{"id":') else None
        envelope = _envelope(name) if name in EVENT_PAYLOADS else None
        if envelope is not None:  # one pass of pydantic's JSON parser, payload typed
            event = envelope.model_validate_json(raw)  # an Event subclass whose payload field is typed
        else:  # an event a newer version wrote (or another layout): keep its payload's fields as they are
            data = json.loads(raw)
            fields = dict(data)
            payload_type = EVENT_PAYLOADS.get(data["name"]) or _Unknown
            fields["payload"] = payload_type.model_validate(data["payload"])
            event = cls.model_validate(fields)
        event._json = raw
        return event

    @property
    def run_id(self) -> str | None:
        return getattr(self.payload, "run_id", None)

    @property
    def experiment_id(self) -> str | None:
        return getattr(self.payload, "experiment_id", None)

    @property
    def model_name(self) -> str | None:
        """The registered model a registry event is about (None for tracking events)."""
        return getattr(self.payload, "name", None) if self.name in REGISTRY_EVENTS else None

    @property
    def partition_key(self) -> str:
        """Events with the same key are delivered in commit order: one run, model or experiment."""
        if self.run_id:
            return f"run:{self.run_id}"
        logged_model = getattr(self.payload, "model_id", None)
        if logged_model and self.name not in REGISTRY_EVENTS:
            return f"logged_model:{logged_model}"
        model = self.model_name
        if model is not None:
            return f"model:{model}"
        return f"experiment:{self.experiment_id or ''}"


def _all_finite(payload: BaseModel) -> bool:
    """No NaN or infinite float among a payload's metric values (the only floats in the catalogue)."""
    value = getattr(payload, "value", None)
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return all(math.isfinite(m.value) for m in getattr(payload, "metrics", ()) or ())


@functools.lru_cache(maxsize=None)
def _envelope(name: str) -> type[BaseModel]:
    """An Event model whose payload is typed as ``name``'s, so one JSON parse builds the whole event."""
    return create_model(f"Envelope_{name}", __base__=Event, payload=(EVENT_PAYLOADS[name], ...))


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinite floats as the strings "NaN", "Infinity", "-Infinity" (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


class _Unknown(BaseModel):
    model_config = {"extra": "allow"}


# -- experiments -----------------------------------------------------------------
class ExperimentCreated(BaseModel):
    experiment_id: str
    name: str
    artifact_location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class ExperimentRenamed(BaseModel):
    experiment_id: str
    new_name: str


class ExperimentRef(BaseModel):
    experiment_id: str


class ExperimentTagSet(BaseModel):
    experiment_id: str
    key: str
    value: str


class ExperimentTagDeleted(BaseModel):
    experiment_id: str
    key: str


# -- runs ----------------------------------------------------------------------
class RunCreated(BaseModel):
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    start_time: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RunUpdated(BaseModel):
    run_id: str
    status: str | None = None
    end_time: int | None = None
    run_name: str | None = None


class RunRef(BaseModel):
    run_id: str


class ParamLogged(BaseModel):
    run_id: str
    key: str
    value: str


class MetricLogged(BaseModel):
    run_id: str
    key: str
    value: float
    timestamp: int
    step: int


class BatchLogged(BaseModel):
    run_id: str
    metrics: list[Metric] = Field(default_factory=list)
    params: list[Param] = Field(default_factory=list)
    tags: list[RunTag] = Field(default_factory=list)


class TagSet(BaseModel):
    run_id: str
    key: str
    value: str


class TagDeleted(BaseModel):
    run_id: str
    key: str


class InputsLogged(BaseModel):
    run_id: str
    datasets: list[DatasetInput] = Field(default_factory=list)


class ArtifactsLogged(BaseModel):
    run_id: str
    artifact_path: str | None = None
    files: list[str] = Field(default_factory=list)


# -- logged models (MLflow 3) ----------------------------------------------------------
class LoggedModelCreated(BaseModel):
    model_id: str
    experiment_id: str
    name: str
    source_run_id: str | None = None
    model_type: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)


class LoggedModelFinalized(BaseModel):
    model_id: str
    status: str


class LoggedModelRef(BaseModel):
    model_id: str


class LoggedModelTagsSet(BaseModel):
    model_id: str
    tags: dict[str, str] = Field(default_factory=dict)


class LoggedModelTagDeleted(BaseModel):
    model_id: str
    key: str


class LoggedModelParamsLogged(BaseModel):
    model_id: str
    params: dict[str, str] = Field(default_factory=dict)


class OutputsLogged(BaseModel):
    run_id: str
    models: list[LoggedModelOutput] = Field(default_factory=list)


# -- model registry ----------------------------------------------------------------
class RegisteredModelCreated(BaseModel):
    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RegisteredModelRenamed(BaseModel):
    name: str
    new_name: str


class RegisteredModelUpdated(BaseModel):
    name: str
    description: str | None = None


class RegisteredModelRef(BaseModel):
    name: str


class RegisteredModelTagSet(BaseModel):
    name: str
    key: str
    value: str


class RegisteredModelTagDeleted(BaseModel):
    name: str
    key: str


class ModelVersionCreated(BaseModel):
    name: str
    version: str
    source: str
    run_id: str | None = None
    model_id: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class ModelVersionUpdated(BaseModel):
    name: str
    version: str
    description: str | None = None


class ModelVersionStageTransitioned(BaseModel):
    name: str
    version: str
    stage: str
    archive_existing_versions: bool = False


class ModelVersionRef(BaseModel):
    name: str
    version: str


class ModelVersionTagSet(BaseModel):
    name: str
    version: str
    key: str
    value: str


class ModelVersionTagDeleted(BaseModel):
    name: str
    version: str
    key: str


class RegisteredModelAliasSet(BaseModel):
    name: str
    alias: str
    version: str


class RegisteredModelAliasDeleted(BaseModel):
    name: str
    alias: str


EVENT_PAYLOADS: dict[str, type[BaseModel]] = {
    "create_experiment": ExperimentCreated,
    "rename_experiment": ExperimentRenamed,
    "delete_experiment": ExperimentRef,
    "restore_experiment": ExperimentRef,
    "set_experiment_tag": ExperimentTagSet,
    "delete_experiment_tag": ExperimentTagDeleted,
    "create_run": RunCreated,
    "update_run": RunUpdated,
    "delete_run": RunRef,
    "restore_run": RunRef,
    "log_param": ParamLogged,
    "log_metric": MetricLogged,
    "log_batch": BatchLogged,
    "set_tag": TagSet,
    "delete_tag": TagDeleted,
    "log_inputs": InputsLogged,
    "log_artifact": ArtifactsLogged,
    "create_logged_model": LoggedModelCreated,
    "finalize_logged_model": LoggedModelFinalized,
    "delete_logged_model": LoggedModelRef,
    "set_logged_model_tags": LoggedModelTagsSet,
    "delete_logged_model_tag": LoggedModelTagDeleted,
    "log_logged_model_params": LoggedModelParamsLogged,
    "log_outputs": OutputsLogged,
    "create_registered_model": RegisteredModelCreated,
    "rename_registered_model": RegisteredModelRenamed,
    "update_registered_model": RegisteredModelUpdated,
    "delete_registered_model": RegisteredModelRef,
    "set_registered_model_tag": RegisteredModelTagSet,
    "delete_registered_model_tag": RegisteredModelTagDeleted,
    "create_model_version": ModelVersionCreated,
    "update_model_version": ModelVersionUpdated,
    "transition_model_version_stage": ModelVersionStageTransitioned,
    "delete_model_version": ModelVersionRef,
    "set_model_version_tag": ModelVersionTagSet,
    "delete_model_version_tag": ModelVersionTagDeleted,
    "set_registered_model_alias": RegisteredModelAliasSet,
    "delete_registered_model_alias": RegisteredModelAliasDeleted,
}

EVENT_NAMES: tuple[str, ...] = tuple(EVENT_PAYLOADS)

#: The model-registry events (their payload's ``name`` is the registered model's).
REGISTRY_EVENTS: frozenset[str] = frozenset(EVENT_NAMES[EVENT_NAMES.index("create_registered_model"):])
