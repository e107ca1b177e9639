"""python_env.yaml and conda.yaml, read into one description of a Python environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from headwater.projects.spec import ProjectError


class PythonEnv(BaseModel):
    """What a virtualenv/uv environment needs: a Python version and pip requirements."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    python: str | None = None
    build_dependencies: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)

    @field_validator("python", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, float):
            # YAML reads 3.10 as 3.1: refuse rather than build the wrong Python.
            raise ValueError(f'write the version as a quoted string, e.g. "{value}"')
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"Cannot read {path}: {exc}") from None


def read_python_env(path: Path) -> PythonEnv:
    raw = _load_yaml(path)
    if not isinstance(raw, dict):
        raise ProjectError(f"Invalid environment file {path}: expected a mapping at the top level")
    if "python" not in raw:
        raise ProjectError(f"Invalid environment file {path}: python: Field required")
    try:
        return PythonEnv.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ProjectError(f"Invalid environment file {path}: {problems}") from None


def python_env_from_conda(path: Path) -> PythonEnv:
    """The Python version and pip requirements of a conda.yaml, for virtualenv/uv."""
    raw = _load_yaml(path)
    if not isinstance(raw, dict):
        raise ProjectError(f"Invalid conda environment file {path}: expected a mapping at the top level")
    python: str | None = None
    pip: list[str] = []
    for dep in raw.get("dependencies") or []:
        if isinstance(dep, str):
            match = re.fullmatch(r"python\s*[=<>]*\s*([\d.]+)\*?", dep.strip())
            if match:
                python = match.group(1).rstrip(".")
        elif isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            pip.extend(str(d) for d in dep["pip"])
    return PythonEnv(python=python, dependencies=pip)


def requirement_files(env: PythonEnv, project_dir: Path) -> list[Path]:
    """Files named by ``-r file`` entries, relative to the project."""
    files = []
    for dep in env.dependencies:
        match = re.fullmatch(r"(?:-r|--requirement)\s*=?\s*(\S+)", dep.strip())
        if match:
            files.append((project_dir / match.group(1)).resolve())
    return files
