"""Tracking entities: experiments, runs and what is logged to them.

These pydantic models are the only currency between the client, the stores and
the server. Stores build them with ``model_construct`` on hot paths (the data
came from their own database and needs no re-validation).
"""

from __future__ import annotations

import math
from typing import Generic, Iterator, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from headwater.entities.enums import LifecycleStage, RunStatus

_FROZEN = ConfigDict(frozen=True)


class ExperimentTag(BaseModel):
    model_config = _FROZEN
    key: str
    value: str


class Experiment(BaseModel):
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Metric(BaseModel):
    """One point of a metric. ``value`` may be NaN or ±inf."""

    model_config = _FROZEN
    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None

    @property
    def is_nan(self) -> bool:
        return math.isnan(self.value)


class Param(BaseModel):
    model_config = _FROZEN
    key: str
    value: str


class RunTag(BaseModel):
    model_config = _FROZEN
    key: str
    value: str


class RunInfo(BaseModel):
    run_id: str
    experiment_id: str
    run_name: str = ""
    user_id: str = ""
    status: RunStatus = RunStatus.RUNNING
    start_time: int | None = None
    end_time: int | None = None
    artifact_uri: str = ""
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id`` (the R client reads it)."""
        return self.run_id


class RunData(BaseModel):
    """What was logged to a run: the latest value per metric, params and tags."""

    latest_metrics: list[Metric] = Field(default_factory=list)
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        """Latest value per metric key, as ``mlflow``'s ``run.data.metrics``."""
        return {m.key: m.value for m in self.latest_metrics}


class Dataset(BaseModel):
    name: str
    digest: str
    source_type: str
    source: str
    schema_: str | None = Field(default=None, alias="schema")
    profile: str | None = None

    model_config = ConfigDict(frozen=True, populate_by_name=True)


class InputTag(BaseModel):
    model_config = _FROZEN
    key: str
    value: str


class DatasetInput(BaseModel):
    model_config = _FROZEN
    dataset: Dataset
    tags: list[InputTag] = Field(default_factory=list)


class LoggedModelInput(BaseModel):
    """A logged model a run used (see :mod:`headwater.entities.logged_model`)."""

    model_config = _FROZEN
    model_id: str


class LoggedModelOutput(BaseModel):
    """A logged model a run produced, at a step."""

    model_config = _FROZEN
    model_id: str
    step: int = 0


class RunInputs(BaseModel):
    dataset_inputs: list[DatasetInput] = Field(default_factory=list)
    model_inputs: list[LoggedModelInput] = Field(default_factory=list)


class RunOutputs(BaseModel):
    model_outputs: list[LoggedModelOutput] = Field(default_factory=list)


class Run(BaseModel):
    info: RunInfo
    data: RunData = Field(default_factory=RunData)
    inputs: RunInputs = Field(default_factory=RunInputs)
    outputs: RunOutputs = Field(default_factory=RunOutputs)


class FileInfo(BaseModel):
    """An entry of an artifact listing; ``path`` is relative to the listed root."""

    model_config = _FROZEN
    path: str
    is_dir: bool
    file_size: int | None = None


T = TypeVar("T")


class PagedList(BaseModel, Generic[T]):
    """One page of results and the token for the next page (None on the last)."""

    items: list[T]
    token: str | None = None

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]
