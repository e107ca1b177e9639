"""Logged models (MLflow 3): a model's own record, apart from the run that produced it.

A logged model has an id ``m-<32 hex>``, lives in an experiment, stores its
files under ``<experiment artifact location>/models/<id>/artifacts``, and
may name the run it came from (``source_run_id``). Runs point back at it
through their outputs (``runs/outputs``) and inputs (``runs/log-inputs``).
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from headwater.entities.tracking import LoggedModelInput, LoggedModelOutput, Metric, RunOutputs

__all__ = ["LoggedModel", "LoggedModelInput", "LoggedModelOutput", "LoggedModelStatus", "RunOutputs"]


class LoggedModelStatus(str, Enum):
    """Upload state; the wire carries the name, the numbers match MLflow's proto."""

    UNSPECIFIED = "LOGGED_MODEL_STATUS_UNSPECIFIED"
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    @property
    def number(self) -> int:
        return list(LoggedModelStatus).index(self)

    @classmethod
    def parse(cls, value: "LoggedModelStatus | str | int") -> "LoggedModelStatus":
        """A member, its wire name, its short name (``READY``) or its proto number."""
        if isinstance(value, LoggedModelStatus):
            return value
        members = list(cls)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            if 0 <= int(value) < len(members):
                return members[int(value)]
        elif isinstance(value, str):
            text = value.upper()
            for member in members:
                if text in (member.value, member.name, member.value.replace("LOGGED_MODEL_", "")):
                    return member
        from headwater.exceptions import HeadwaterError

        raise HeadwaterError.invalid(
            f"Invalid logged model status {value!r}. Must be one of {', '.join(m.value for m in members)}."
        )


class LoggedModel(BaseModel):
    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    creation_timestamp: int = 0
    last_updated_timestamp: int = 0
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    metrics: list[Metric] = Field(default_factory=list)
    lifecycle_stage: str = "active"

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_id}"
