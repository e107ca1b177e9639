"""The MLproject file: entry points, typed parameters and the environment to run in.

``load_project(folder)`` reads the first file in ``folder`` whose lower-cased
name is ``mlproject``. A folder without one is still a project: its entry
points are its ``.py``, ``.sh`` and ``.R`` files, and its environment comes
from ``python_env.yaml`` or ``conda.yaml`` when present. Every error names the
file and the field at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from headwater.exceptions import HeadwaterError

DEFAULT_ENTRY_POINT = "main"
PARAMETER_TYPES = ("string", "float", "int", "path", "uri")
SCRIPT_SUFFIXES = (".py", ".sh", ".R")


class ProjectError(HeadwaterError):
    """A project that cannot run as given: bad MLproject, entry point, parameter or source."""

    def __init__(self, message: str):
        super().__init__(message, "INVALID_PARAMETER_VALUE")


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: Literal["string", "float", "int", "path", "uri"] = "string"
    default: str | None = None
    description: str | None = None

    @field_validator("default", mode="before")
    @classmethod
    def _default_as_text(cls, value: Any) -> Any:
        # YAML reads `default: 0.1` as a float; the command line only knows text.
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            return str(value)
        return value


class EntryPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    command: str
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    script: bool = False  # a .py/.sh/.R file run directly, not a declared entry point

    @model_validator(mode="before")
    @classmethod
    def _expand_parameters(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw = data.get("parameters")
        if raw is None:
            return {**data, "parameters": {}}
        if not isinstance(raw, dict):
            return data  # pydantic reports the wrong shape
        expanded: dict[str, Any] = {}
        for name, spec in raw.items():
            if spec is None or isinstance(spec, str):
                spec = {"type": spec or "string"}  # shorthand `name: float`
            if isinstance(spec, dict):
                spec = {"name": str(name), **spec}
            expanded[str(name)] = spec
        return {**data, "parameters": expanded}


class DockerEnv(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str
    volumes: list[str] = Field(default_factory=list)
    environment: list[str | tuple[str, str]] = Field(default_factory=list)


class _MLprojectFile(BaseModel):
    """The file as written; unknown top-level keys are ignored, as other clients do."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    python_env: str | None = None
    conda_env: str | None = None
    docker_env: DockerEnv | None = None
    entry_points: dict[str, EntryPoint] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _name_entry_points(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("entry_points"), dict):
            named = {
                str(k): ({"name": str(k), **v} if isinstance(v, dict) else v)
                for k, v in data["entry_points"].items()
            }
            return {**data, "entry_points": named}
        return data

    @model_validator(mode="after")
    def _one_environment(self) -> "_MLprojectFile":
        if sum(x is not None for x in (self.python_env, self.conda_env, self.docker_env)) > 1:
            raise ValueError("Project cannot contain multiple environment fields")
        return self


class Project(BaseModel):
    """A loaded project: its folder, entry points and environment files (absolute paths)."""

    model_config = ConfigDict(frozen=True)

    root: Path
    name: str | None = None
    mlproject_file: Path | None = None
    entry_points: dict[str, EntryPoint] = Field(default_factory=dict)
    python_env: Path | None = None
    conda_env: Path | None = None
    docker_env: DockerEnv | None = None

    def entry_point(self, name: str) -> EntryPoint:
        """The declared entry point ``name``, or a script file of the project run directly."""
        if name in self.entry_points:
            return self.entry_points[name]
        script = (self.root / name).resolve()
        if name.endswith(SCRIPT_SUFFIXES) and script.is_file() and script.is_relative_to(self.root):
            return EntryPoint(name=name, command=name, script=True)
        declared = ", ".join(sorted(self.entry_points)) or "none declared"
        where = self.mlproject_file or self.root
        raise ProjectError(
            f"Could not find entry point {name!r} in {where}. Entry points: {declared};"
            f" a {', '.join(SCRIPT_SUFFIXES)} file of the project can also be run by its name."
        )


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _mlproject_error(path: Path, exc: ValidationError) -> ProjectError:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        # Field names inserted by the parser itself are not in the file.
        if loc and loc[-1] == "name" and err["type"] != "missing":
            loc = loc[:-1]
        problems.append(f"{_field_path(loc)}: {err['msg']}")
    return ProjectError(f"Invalid MLproject file {path}: " + "; ".join(problems))


def find_mlproject(root: Path) -> Path | None:
    for child in sorted(root.iterdir()):
        if child.is_file() and child.name.lower() == "mlproject":
            return child
    return None


def _env_file(root: Path, mlproject: Path, field: str, value: str) -> Path:
    path = (root / value).resolve()
    if not path.is_file():
        raise ProjectError(f"Invalid MLproject file {mlproject}: {field}: file {value!r} does not exist")
    return path


def load_project(root: str | Path) -> Project:
    """Read the project in folder ``root``."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ProjectError(f"Project folder {root} does not exist or is not a folder.")
    mlproject = find_mlproject(root)
    if mlproject is None:
        python_env = root / "python_env.yaml"
        conda_env = root / "conda.yaml"
        return Project(
            root=root,
            python_env=python_env if python_env.is_file() else None,
            conda_env=conda_env if conda_env.is_file() and not python_env.is_file() else None,
        )
    try:
        raw = yaml.safe_load(mlproject.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProjectError(f"Invalid MLproject file {mlproject}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ProjectError(f"Invalid MLproject file {mlproject}: expected a mapping at the top level")
    try:
        parsed = _MLprojectFile.model_validate(raw)
    except ValidationError as exc:
        raise _mlproject_error(mlproject, exc) from None
    return Project(
        root=root,
        name=parsed.name,
        mlproject_file=mlproject,
        entry_points=parsed.entry_points,
        python_env=_env_file(root, mlproject, "python_env", parsed.python_env) if parsed.python_env else None,
        conda_env=_env_file(root, mlproject, "conda_env", parsed.conda_env) if parsed.conda_env else None,
        docker_env=parsed.docker_env,
    )
