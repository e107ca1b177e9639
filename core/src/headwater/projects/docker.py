"""Running a project's command inside its ``docker_env`` image.

The project folder is mounted at ``/mlflow/projects/code`` (the path MLflow's
images expect) and the tracking variables are passed with ``-e``. A tracking
store in a local SQLite file is mounted too, and its URI rewritten to match.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from headwater.projects.spec import DockerEnv, ProjectError

CODE_DIR = "/mlflow/projects/code"
STORE_DIR = "/mlflow/tmp/mlruns"


def check_engine(timeout: float = 30) -> None:
    """Raise a clear error unless a Docker engine answers."""
    if shutil.which("docker") is None:
        raise ProjectError(
            "This project has a docker_env, which needs Docker, and the docker command is not installed."
        )
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ProjectError("This project has a docker_env, and the Docker engine did not answer.") from None
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise ProjectError(
            "This project has a docker_env, which needs a running Docker engine, and no docker engine"
            f" is reachable ({reason[-1] if reason else 'docker version failed'})."
            " Start Docker, or point DOCKER_HOST at an engine."
        )


def _volumes_for_store(tracking_uri: str) -> tuple[list[str], str]:
    parts = urlsplit(tracking_uri)
    if parts.scheme == "sqlite" and parts.path not in ("", "/:memory:"):
        db = Path(parts.path)
        return ["-v", f"{db.parent}:{STORE_DIR}"], f"sqlite:///{STORE_DIR}/{db.name}"
    return [], tracking_uri


def docker_argv(
    docker_env: DockerEnv,
    project_dir: Path,
    argv: list[str],
    variables: dict[str, str],
    tracking_uri: str,
    docker_args: dict[str, str | bool] | None = None,
) -> list[str]:
    """``docker run ... image argv...`` for the project's command."""
    cmd = ["docker", "run", "--rm", "-v", f"{project_dir}:{CODE_DIR}", "-w", CODE_DIR]
    store_volume, container_uri = _volumes_for_store(tracking_uri)
    cmd += store_volume
    variables = dict(variables)
    for name in ("HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        variables[name] = container_uri
    for name, value in variables.items():
        cmd += ["-e", f"{name}={value}"]
    for volume in docker_env.volumes:
        cmd += ["-v", volume]
    for item in docker_env.environment:
        if isinstance(item, str):  # copied from the host
            if item not in os.environ:
                raise ProjectError(f"docker_env.environment names {item!r}, which is not set here.")
            cmd += ["-e", f"{item}={os.environ[item]}"]
        else:
            cmd += ["-e", f"{item[0]}={item[1]}"]
    for name, value in (docker_args or {}).items():
        flag = f"--{name}" if len(name) > 1 else f"-{name}"
        cmd += [flag] if value is True else [flag, str(value)]
    return [*cmd, docker_env.image, *argv]
