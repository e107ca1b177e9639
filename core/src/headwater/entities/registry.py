"""Model-registry entities: registered models, their versions, stages and aliases.

Field names are MLflow's (spec/rest-api.md §3), so scripts written against
``MlflowClient`` read them unchanged: ``version`` is a string as MLflow's
clients see it, ``tags`` a dict, and a registered model's ``aliases`` map
alias -> version.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class ModelVersionStage(str, Enum):
    """The four stages a version can be in (as stored and sent on the wire)."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: "ModelVersionStage | str") -> "ModelVersionStage":
        """A stage named in any case; anything else is INVALID_PARAMETER_VALUE."""
        if isinstance(value, ModelVersionStage):
            return value
        if isinstance(value, str):
            for stage in cls:
                if stage.value.lower() == value.strip().lower():
                    return stage
        from headwater.exceptions import HeadwaterError

        raise HeadwaterError.invalid(
            f"Invalid Model Version stage: {value}. Value must be one of"
            f" {', '.join(s.value for s in cls)}."
        )


#: Stages whose other versions ``archive_existing_versions`` may archive.
ARCHIVABLE_FROM = (ModelVersionStage.STAGING, ModelVersionStage.PRODUCTION)


class ModelVersionStatus(str, Enum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


class ModelVersion(BaseModel):
    name: str
    version: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    user_id: str | None = None
    current_stage: str = ModelVersionStage.NONE.value
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY.value
    status_message: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = Field(default_factory=list)
    model_id: str | None = None


class RegisteredModel(BaseModel):
    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    user_id: str | None = None
    description: str | None = None
    #: The newest version in each stage that has one.
    latest_versions: list[ModelVersion] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    #: alias -> version
    aliases: dict[str, str] = Field(default_factory=dict)
