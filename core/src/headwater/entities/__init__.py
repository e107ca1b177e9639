"""Pydantic entities exchanged between the client, stores and server."""

from headwater.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
from headwater.entities.logged_model import LoggedModel, LoggedModelStatus
from headwater.entities.registry import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    RegisteredModel,
)
from headwater.entities.summaries import MetricBucket, RunKeys
from headwater.entities.tracking import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    InputTag,
    Metric,
    PagedList,
    Param,
    LoggedModelInput,
    LoggedModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "Metric",
    "MetricBucket",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "PagedList",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunKeys",
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]
