"""OpenAPI descriptions of the tracking endpoints' requests and responses.

These models document the wire format only; requests are parsed by
:mod:`headwater_server.wire`, which also accepts every scalar as a string (the
R client sends them so), camelCase names, and ignores unknown fields.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Int64 = int
WireDouble = float | Literal["NaN", "Infinity", "-Infinity"]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- shared pieces -------------------------------------------------------------------
class KeyValue(_Doc):
    key: str
    value: Optional[str] = None


class MetricIn(_Doc):
    key: str
    value: WireDouble
    timestamp: Int64
    step: Int64 = 0
    model_id: Optional[str] = None
    dataset_name: Optional[str] = None
    dataset_digest: Optional[str] = None


class DatasetDoc(_Doc):
    name: str
    digest: str
    source_type: str
    source: str
    schema_: Optional[str] = Field(default=None, alias="schema")
    profile: Optional[str] = None


class DatasetInputDoc(_Doc):
    tags: Optional[list[KeyValue]] = None
    dataset: DatasetDoc


class ModelInputDoc(_Doc):
    model_id: str


class ModelOutputDoc(_Doc):
    model_id: str
    step: Int64 = 0


# -- requests ---------------------------------------------------------------------------
class CreateExperiment(_Doc):
    name: str
    artifact_location: Optional[str] = None
    tags: Optional[list[KeyValue]] = None


class GetExperiment(_Doc):
    experiment_id: str


class GetExperimentByName(_Doc):
    experiment_name: str


class SearchExperiments(_Doc):
    max_results: Int64 = Field(description="Required by the server (1 to 50000); clients send 1000.")
    page_token: Optional[str] = None
    filter: Optional[str] = None
    order_by: Optional[list[str]] = None
    view_type: Optional[Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]] = None


class ExperimentId(_Doc):
    experiment_id: str


class UpdateExperiment(_Doc):
    experiment_id: str
    new_name: str


class SetExperimentTag(_Doc):
    experiment_id: str
    key: str
    value: Optional[str] = None


class DeleteExperimentTag(_Doc):
    experiment_id: str
    key: str


class CreateRun(_Doc):
    experiment_id: str
    user_id: Optional[str] = None
    run_name: Optional[str] = None
    start_time: Optional[Int64] = None
    tags: Optional[list[KeyValue]] = None


class RunId(_Doc):
    run_id: str = Field(description="`run_uuid` is accepted in its place.")


class UpdateRun(RunId):
    status: Optional[Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]] = None
    end_time: Optional[Int64] = None
    run_name: Optional[str] = None


class LogMetric(RunId, MetricIn):
    pass


class LogParam(RunId):
    key: str
    value: Optional[str] = None


class SetTag(LogParam):
    pass


class DeleteTag(RunId):
    key: str


class LogBatch(RunId):
    metrics: Optional[list[MetricIn]] = None
    params: Optional[list[KeyValue]] = None
    tags: Optional[list[KeyValue]] = None


class LogModel(RunId):
    model_json: str = Field(description="An MLmodel as a JSON string")


class LogInputs(RunId):
    datasets: Optional[list[DatasetInputDoc]] = None
    models: Optional[list[ModelInputDoc]] = None


class LogOutputs(RunId):
    models: list[ModelOutputDoc]


class SearchRuns(_Doc):
    experiment_ids: Optional[list[str]] = None
    filter: Optional[str] = None
    run_view_type: Optional[Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]] = None
    max_results: Int64 = Field(default=1000, description="At most 50000")
    order_by: Optional[list[str]] = None
    page_token: Optional[str] = None


class GetMetricHistory(RunId):
    metric_key: str
    max_results: Optional[Int64] = Field(default=None, description="Absent: every point, no token")
    page_token: Optional[str] = None


class GetMetricHistoryBulkInterval(_Doc):
    run_ids: list[str] = Field(description="At most 100")
    metric_key: str
    start_step: Optional[Int64] = None
    end_step: Optional[Int64] = None
    max_results: Int64 = Field(default=2500, description="1 to 2500 points per run")


class GetMetricHistoryBulk(_Doc):
    run_id: list[str] = Field(description="At most 100")
    metric_key: str
    max_results: Int64 = 25000


class ListArtifacts(RunId):
    path: Optional[str] = None
    page_token: Optional[str] = None


# -- responses ----------------------------------------------------------------------------
class Empty(_Doc):
    pass


class Experiment(_Doc):
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    last_update_time: Optional[Int64] = None
    creation_time: Optional[Int64] = None
    tags: Optional[list[KeyValue]] = None


class CreateExperimentResponse(_Doc):
    experiment_id: str


class ExperimentResponse(_Doc):
    experiment: Experiment


class SearchExperimentsResponse(_Doc):
    experiments: Optional[list[Experiment]] = None
    next_page_token: Optional[str] = None


class RunInfo(_Doc):
    run_id: str
    run_uuid: str = Field(description="The same as run_id (the R client reads this name)")
    experiment_id: str
    run_name: Optional[str] = None
    user_id: Optional[str] = None
    status: Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
    start_time: Optional[Int64] = None
    end_time: Optional[Int64] = Field(default=None, description="Absent while the run has not ended")
    artifact_uri: Optional[str] = None
    lifecycle_stage: str


class MetricOut(_Doc):
    key: str
    value: WireDouble
    timestamp: Int64
    step: Int64
    run_id: Optional[str] = None
    model_id: Optional[str] = None
    dataset_name: Optional[str] = None
    dataset_digest: Optional[str] = None


class RunData(_Doc):
    metrics: Optional[list[MetricOut]] = Field(default=None, description="The latest value per key")
    params: Optional[list[KeyValue]] = None
    tags: Optional[list[KeyValue]] = None


class RunInputs(_Doc):
    dataset_inputs: Optional[list[DatasetInputDoc]] = None
    model_inputs: Optional[list[ModelInputDoc]] = None


class RunOutputs(_Doc):
    model_outputs: Optional[list[ModelOutputDoc]] = None


class Run(_Doc):
    info: RunInfo
    data: RunData
    inputs: Optional[RunInputs] = None
    outputs: Optional[RunOutputs] = None


class RunResponse(_Doc):
    run: Run


class UpdateRunResponse(_Doc):
    run_info: RunInfo


class SearchRunsResponse(_Doc):
    runs: Optional[list[Run]] = None
    next_page_token: Optional[str] = None


class MetricsResponse(_Doc):
    metrics: Optional[list[MetricOut]] = None
    next_page_token: Optional[str] = None


class FileInfo(_Doc):
    path: str
    is_dir: bool
    file_size: Optional[Int64] = Field(default=None, description="Files only")


class ListArtifactsResponse(_Doc):
    root_uri: str
    files: Optional[list[FileInfo]] = None


class ServerInfo(_Doc):
    store_type: str
    artifact_serving_enabled: bool
    workspaces_enabled: bool
    multipart_uploads_enabled: bool
    multipart_downloads_enabled: bool
    artifacts_presigned_only: bool


class ErrorResponse(_Doc):
    error_code: str = Field(description="An MLflow error code name, e.g. RESOURCE_DOES_NOT_EXIST")
    message: str
