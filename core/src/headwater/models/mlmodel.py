"""The MLmodel file: what a model directory holds and how to load it.

A pydantic record of spec/model-format.md §2. Keys this version does not know
are kept (``extra="allow"``) and written back, so a model saved by a newer
MLflow or Headwater survives a load and save unchanged. The file is read with
``yaml.safe_load`` (never a loader that builds arbitrary objects) and written
with ``yaml.safe_dump``, sorted, in block style, as MLflow writes it.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.models.signature import ModelSignature

MLMODEL_FILE_NAME = "MLmodel"
PYFUNC_FLAVOR = "python_function"


def utc_now_text() -> str:
    """Naive UTC time as ``str(datetime)``, the format MLmodel files use."""
    return str(datetime.now(timezone.utc).replace(tzinfo=None))


class Model(BaseModel):
    """The contents of an MLmodel file."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, validate_assignment=False)

    flavors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    model_uuid: str = Field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = Field(default_factory=utc_now_text)
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("signature", mode="before")
    @classmethod
    def _read_signature(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return ModelSignature.from_dict(value)
        return value

    @field_validator("flavors", mode="before")
    @classmethod
    def _read_flavors(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict) or any(not isinstance(v, dict) for v in value.values()):
            raise ValueError("'flavors' must map each flavor name to its configuration")
        return value

    # -- flavors ------------------------------------------------------------------------
    def add_flavor(self, name: str, **config: Any) -> "Model":
        self.flavors[name] = config
        return self

    def flavor_conf(self, name: str) -> dict[str, Any]:
        if name not in self.flavors:
            raise HeadwaterError(
                f"The model has no {name!r} flavor; it has {sorted(self.flavors)}.",
                ErrorCode.RESOURCE_DOES_NOT_EXIST,
            )
        return self.flavors[name]

    # -- (de)serialising ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude={"signature"}).items():
            if value is None and key in ("artifact_path", "run_id", "saved_input_example_info",
                                         "model_size_bytes", "metadata"):
                continue  # MLflow leaves these out when unset
            out[key] = value
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
            out.setdefault("is_signature_from_type_hint", False)
            out.setdefault("type_hint_from_example", False)
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), default_flow_style=False, sort_keys=True)

    def save(self, path: str) -> None:
        """Write the MLmodel file at ``path`` (a file path, or a model directory)."""
        if os.path.isdir(path):
            path = os.path.join(path, MLMODEL_FILE_NAME)
        with open(path, "w", encoding="utf-8") as out:
            out.write(self.to_yaml())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Model":
        return cls.model_validate(data)

    @classmethod
    def load(cls, path: str) -> "Model":
        """Read ``<dir>/MLmodel`` (or the MLmodel file itself)."""
        path = os.fspath(path)
        file_path = os.path.join(path, MLMODEL_FILE_NAME) if os.path.isdir(path) else path
        if not os.path.isfile(file_path):
            raise HeadwaterError(
                f"Could not find an '{MLMODEL_FILE_NAME}' file in {path!r}: this is not a model directory.",
                ErrorCode.RESOURCE_DOES_NOT_EXIST,
            )
        with open(file_path, encoding="utf-8") as src:
            try:
                data = yaml.safe_load(src)
            except yaml.YAMLError as exc:
                raise HeadwaterError.invalid(f"The MLmodel file {file_path!r} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise HeadwaterError.invalid(f"The MLmodel file {file_path!r} does not hold a YAML mapping.")
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise HeadwaterError.invalid(f"The MLmodel file {file_path!r} is malformed: {exc}") from None

    def get_input_schema(self) -> Any:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> Any:
        return self.signature.params if self.signature is not None else None


def add_pyfunc(
    model: Model,
    loader_module: str,
    data: str | None = None,
    env: dict[str, str] | None = None,
    code: str | None = None,
    **extra: Any,
) -> Model:
    """Add the ``python_function`` flavor: the generic loader contract of §3."""
    import platform

    config: dict[str, Any] = {"loader_module": loader_module, "python_version": platform.python_version()}
    if data is not None:
        config["data"] = data
    if code is not None:
        config["code"] = code
    config["env"] = env or {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    config.update(extra)
    return model.add_flavor(PYFUNC_FLAVOR, **config)


def directory_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total
