"""Pydantic entities exchanged between the client, stores and server."""

from headwater.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
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
    Run,
    RunData,
    RunInfo,
    RunInputs,
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
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]
