"""The environment a project's command runs in: local, virtualenv, uv, conda or docker.

``plan_environment`` decides and checks everything it can before a run
exists (the manager is installed, the requested Python is available, the env
file is valid). ``EnvironmentPlan.prepare`` then builds the environment, or
reuses the one built before from the same inputs: environments are cached
under their content hash (manager, interpreter, requirements and the text of
``-r`` files), so an unchanged project starts at once the second time.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console

from headwater.projects import cache, docker
from headwater.projects.envfiles import PythonEnv, python_env_from_conda, read_python_env, requirement_files
from headwater.projects.spec import Project, ProjectError

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")
_COMPLETE = ".headwater-env-complete"


@dataclass
class Activation:
    """How to run a command inside a prepared environment."""

    path_prefix: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    wrap: Callable[[list[str], dict[str, str]], list[str]] | None = None  # docker

    def environ(self, base: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        env.update(self.variables)
        if self.path_prefix:
            env["PATH"] = os.pathsep.join([*self.path_prefix, env.get("PATH", os.defpath)])
        if "VIRTUAL_ENV" in self.variables:
            env.pop("PYTHONHOME", None)
        return env


def _conda_exe() -> str | None:
    for candidate in (os.environ.get("HEADWATER_CONDA_EXE"), os.environ.get("CONDA_EXE"), shutil.which("conda")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _uv_exe() -> str | None:
    """uv on PATH, else the one ``pip install uv`` put beside this interpreter."""
    beside = Path(sys.executable).with_name("uv")
    return shutil.which("uv") or (str(beside) if beside.is_file() else None)


def _version_matches(wanted: str, actual: str) -> bool:
    return actual.split(".")[: len(wanted.split("."))] == wanted.split(".")


def _find_interpreter(wanted: str | None) -> str | None:
    """An interpreter for Python ``wanted`` (any when None): this one, else ``pythonX.Y`` on PATH."""
    if wanted is None or _version_matches(wanted, platform.python_version()):
        return sys.executable
    major_minor = ".".join(wanted.split(".")[:2])
    found = shutil.which(f"python{major_minor}")
    if found is None:
        return None
    done = subprocess.run(
        [found, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    return found if done.returncode == 0 and _version_matches(wanted, done.stdout.strip()) else None


def default_env_manager(project: Project) -> str:
    """virtualenv for a python_env, conda for a conda_env, docker for a docker_env, else local."""
    if project.docker_env is not None:
        return "docker"
    if project.python_env is not None:
        return "virtualenv"
    if project.conda_env is not None:
        return "conda"
    return "local"


@dataclass
class EnvironmentPlan:
    manager: str
    project: Project
    python_env: PythonEnv | None = None
    interpreter: str | None = None  # virtualenv: the base interpreter
    tool: str | None = None  # uv / conda executable

    @property
    def key(self) -> str:
        parts: list[str | bytes] = [self.manager, self.interpreter or "", self.tool or ""]
        if self.python_env is not None:
            parts.append(self.python_env.model_dump_json())
            for req in requirement_files(self.python_env, self.project.root):
                parts.append(req.read_bytes() if req.is_file() else str(req))
        if self.manager == "conda" and self.project.conda_env is not None:
            parts.append(self.project.conda_env.read_bytes())
        return cache.digest(*parts)

    def prepare(self, console: Console | None = None, variables: dict[str, str] | None = None,
                tracking_uri: str = "", docker_args: dict[str, str | bool] | None = None) -> Activation:
        """Build (or reuse) the environment; returns how to run in it."""
        console = console or Console(stderr=True)
        if self.manager == "local":
            return Activation(path_prefix=[os.path.dirname(sys.executable)])
        if self.manager == "docker":
            docker_env = self.project.docker_env
            assert docker_env is not None
            return Activation(wrap=lambda argv, env: docker.docker_argv(
                docker_env, self.project.root, argv, env, tracking_uri, docker_args))
        env_dir = cache.cache_root() / "envs" / f"{self.manager}-{self.key}"
        with cache.locked(f"env-{env_dir.name}"):
            if (env_dir / _COMPLETE).exists():
                console.print(f"Using the cached {self.manager} environment {env_dir}")
            else:
                self._build(env_dir, console)
        bin_dir = str(env_dir / "bin")
        if self.manager == "conda":
            return Activation(path_prefix=[bin_dir], variables={"CONDA_PREFIX": str(env_dir)})
        return Activation(path_prefix=[bin_dir], variables={"VIRTUAL_ENV": str(env_dir)})

    # -- building -----------------------------------------------------------------------
    def _steps(self, env_dir: Path) -> list[list[str]]:
        python = str(env_dir / "bin" / "python")
        env = self.python_env or PythonEnv()
        if self.manager == "conda":
            assert self.tool and self.project.conda_env
            return [[self.tool, "env", "create", "--quiet", "--prefix", str(env_dir),
                     "--file", str(self.project.conda_env)]]
        if self.manager == "uv":
            assert self.tool
            steps = [[self.tool, "venv", "--quiet", "--python", env.python or sys.executable, str(env_dir)]]
            install = [self.tool, "pip", "install", "--python", python]
        else:
            assert self.interpreter
            steps = [[self.interpreter, "-m", "venv", str(env_dir)]]
            install = [python, "-m", "pip", "install", "--disable-pip-version-check"]
        if env.build_dependencies:
            steps.append([*install, *env.build_dependencies])
        if env.dependencies:
            steps.append([*install, *_requirement_args(env.dependencies)])
        return steps

    def _build(self, env_dir: Path, console: Console) -> None:
        if env_dir.exists():  # an earlier build that did not finish
            shutil.rmtree(env_dir)
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        log_file = env_dir.parent / f"{env_dir.name}.log"
        with open(log_file, "w") as log, console.status(
            f"Building the {self.manager} environment for {self.project.root.name} (log: {log_file})"
        ):
            for step in self._steps(env_dir):
                log.write(f"$ {' '.join(step)}\n")
                log.flush()
                done = subprocess.run(step, cwd=self.project.root, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
                if done.returncode != 0:
                    log.close()
                    tail = "".join(log_file.read_text(errors="replace").splitlines(True)[-15:])
                    shutil.rmtree(env_dir, ignore_errors=True)
                    raise ProjectError(
                        f"Building the {self.manager} environment failed at `{' '.join(step)}`"
                        f" (exit code {done.returncode}). Last lines of {log_file}:\n{tail}"
                    )
        (env_dir / _COMPLETE).write_text("ok\n")
        console.print(f"Built the {self.manager} environment {env_dir}")


def _requirement_args(dependencies: list[str]) -> list[str]:
    """pip arguments for a python_env dependency list (``-r file`` stays two words)."""
    args: list[str] = []
    for dep in dependencies:
        dep = dep.strip()
        if dep.startswith(("-r ", "--requirement ", "-c ", "--constraint ", "-e ", "--editable ")):
            args.extend(dep.split(None, 1))
        else:
            args.append(dep)
    return args


def plan_environment(project: Project, env_manager: str | None) -> EnvironmentPlan:
    """Choose and check the environment before any run exists."""
    default = default_env_manager(project)
    if project.docker_env is not None:
        if env_manager not in (None, "docker"):
            raise ProjectError(
                f"This project runs in its docker_env image; --env-manager {env_manager} does not apply to it."
            )
        docker.check_engine()
        return EnvironmentPlan("docker", project)
    manager = env_manager or default
    if manager not in ENV_MANAGERS:
        raise ProjectError(f"Unknown environment manager {manager!r}. Choose one of: {', '.join(ENV_MANAGERS)}.")
    if manager == "local":
        return EnvironmentPlan("local", project)
    if manager == "conda":
        tool = _conda_exe()
        if tool is None:
            raise ProjectError(
                "--env-manager conda needs conda, and it is not installed (no conda on PATH, no CONDA_EXE)."
                " Install conda, or run with --env-manager virtualenv or local."
            )
        if project.conda_env is None:
            raise ProjectError("--env-manager conda needs a conda_env (conda.yaml) in the project.")
        return EnvironmentPlan("conda", project, tool=tool)
    if project.python_env is not None:
        python_env = read_python_env(project.python_env)
    elif project.conda_env is not None:
        python_env = python_env_from_conda(project.conda_env)
    else:
        python_env = PythonEnv()
    for req in requirement_files(python_env, project.root):
        if not req.is_file():
            raise ProjectError(f"The environment of {project.root} needs {req}, which does not exist.")
    if manager == "uv":
        tool = _uv_exe()
        if tool is None:
            raise ProjectError("--env-manager uv needs the uv command, and it is not installed (pip install uv).")
        return EnvironmentPlan("uv", project, python_env=python_env, tool=tool)
    interpreter = _find_interpreter(python_env.python)
    if interpreter is None:
        raise ProjectError(
            f"The project asks for Python {python_env.python}, and no python{python_env.python} interpreter"
            " is on PATH. Install it, or use --env-manager uv, which can provide one."
        )
    return EnvironmentPlan("virtualenv", project, python_env=python_env, interpreter=interpreter)
