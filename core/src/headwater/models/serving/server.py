"""Starting the scoring server: ``serve(model_uri, ...)`` and ``headwater models serve``.

The model URI is resolved (downloaded if remote) once, here; every uvicorn
worker then loads the local copy through :func:`~headwater.models.serving.app.app_from_env`.
Only the local environment is supported (``--env-manager local``): the
server runs in the interpreter that started it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from headwater.exceptions import HeadwaterError
from headwater.models.serving.app import (
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_TIMEOUT,
    MAX_BYTES_ENV,
    MODEL_PATH_ENV,
    TIMEOUT_ENV,
)

ENV_MANAGERS = ("local",)
APP_FACTORY = "headwater.models.serving.app:app_from_env"


def _require_server_libraries() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise HeadwaterError.invalid(
            f"Serving models needs uvicorn and starlette: pip install 'headwater[serve]' ({exc})"
        ) from None


def check_env_manager(env_manager: str | None) -> None:
    if env_manager not in (None, *ENV_MANAGERS):
        raise HeadwaterError.invalid(
            f"--env-manager {env_manager} is not supported by the scoring server yet; use --env-manager local"
            " (the server then runs in this Python environment, which must have the model's requirements)."
        )


def server_environment(model_path: str, timeout: float, max_request_bytes: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        MODEL_PATH_ENV: os.path.abspath(model_path),
        TIMEOUT_ENV: str(timeout),
        MAX_BYTES_ENV: str(max_request_bytes),
    })
    return env


def serve(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    daemonized: bool = False,
    env_manager: str | None = "local",
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> Any:
    """Serve the model at ``model_uri`` on ``host:port``.

    Blocks until the server stops, unless ``daemonized``: then the server runs
    in a child process, which is returned (``.terminate()`` stops it).
    """
    check_env_manager(env_manager)
    _require_server_libraries()
    from headwater.models.uri import download_model

    local = download_model(model_uri)
    env = server_environment(local, timeout, max_request_bytes)
    command = [sys.executable, "-m", "uvicorn", "--factory", APP_FACTORY, "--host", host, "--port", str(port),
               "--workers", str(workers), "--no-access-log", "--timeout-graceful-shutdown", "5"]
    if daemonized:
        return subprocess.Popen(command, env=env)
    if workers == 1:
        # In this process: the model loads once, here, and errors surface before the port opens.
        import uvicorn

        from headwater.models.serving.app import app_from_env

        os.environ.update({k: env[k] for k in (MODEL_PATH_ENV, TIMEOUT_ENV, MAX_BYTES_ENV)})
        uvicorn.run(app_from_env(), host=host, port=port, access_log=False, log_level="info")
        return None
    completed = subprocess.run(command, env=env)
    return completed.returncode
