"""The environment files of a model: requirements.txt, python_env.yaml, conda.yaml.

Requirements are pinned to the versions actually installed in this
interpreter (``importlib.metadata``), so rebuilding the environment later
(``--env-manager virtualenv``) reproduces the one the model was saved in. A
distribution that is not installed is written unpinned.
"""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from typing import Iterable

import yaml

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def pin(requirement: str) -> str:
    """``name`` → ``name==<installed version>``; requirements with a specifier stay as given."""
    stripped = requirement.strip()
    match = _NAME_RE.match(stripped)
    if not match or match.end() != len(stripped):
        return stripped  # already has a specifier, extras, a marker or a URL
    version = installed_version(match.group(1))
    return f"{stripped}=={version}" if version else stripped


def _name(requirement: str) -> str:
    match = _NAME_RE.match(requirement)
    return match.group(1).lower().replace("_", "-") if match else requirement


def resolve_requirements(
    defaults: Iterable[str],
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
) -> list[str]:
    """The requirement lines: the user's list if given, else the flavor's defaults, plus extras."""
    base = list(pip_requirements) if pip_requirements is not None else [pin(r) for r in defaults]
    lines: list[str] = []
    seen: set[str] = set()
    for requirement in [*base, *(extra_pip_requirements or ())]:
        key = _name(requirement)
        if key in seen:
            lines = [line for line in lines if _name(line) != key]
        seen.add(key)
        lines.append(requirement)
    return lines


def write_environment(path: str, requirements: list[str], python_version: str | None = None) -> dict[str, str]:
    """Write the three files into ``path``; returns the ``env`` entry of the pyfunc flavor."""
    python_version = python_version or platform.python_version()
    with open(os.path.join(path, REQUIREMENTS_FILE), "w", encoding="utf-8") as out:
        out.write("\n".join(requirements) + ("\n" if requirements else ""))
    pip_version = installed_version("pip")
    build = [f"pip=={pip_version}" if pip_version else "pip"]
    setuptools_version = installed_version("setuptools")
    build.append(f"setuptools=={setuptools_version}" if setuptools_version else "setuptools")
    build.append("wheel")
    python_env = {"python": python_version, "build_dependencies": build, "dependencies": [f"-r {REQUIREMENTS_FILE}"]}
    with open(os.path.join(path, PYTHON_ENV_FILE), "w", encoding="utf-8") as out:
        yaml.safe_dump(python_env, out, default_flow_style=False, sort_keys=False)
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python_version}", f"pip<={pip_version}" if pip_version else "pip",
                         {"pip": requirements}],
        "name": "headwater-env",
    }
    with open(os.path.join(path, CONDA_ENV_FILE), "w", encoding="utf-8") as out:
        yaml.safe_dump(conda, out, default_flow_style=False, sort_keys=False)
    return {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE}


def read_requirements(path: str) -> list[str]:
    file_path = os.path.join(path, REQUIREMENTS_FILE)
    if not os.path.isfile(file_path):
        return []
    with open(file_path, encoding="utf-8") as src:
        return [line.strip() for line in src if line.strip() and not line.startswith("#")]
