"""``headwater server`` and ``headwater ui``: the tracking server under uvicorn.

The options are ``mlflow server``'s, so tools that shell out to MLflow (the R
package honours ``MLFLOW_BIN``) can run Headwater instead; an option given
twice (``--port 5000 --port 5000``, as the R package does) takes the last
value. The server lives in the ``headwater-server`` distribution and is
imported only when a command runs, so ``headwater --help`` stays fast.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import click

_DEFAULT_BACKEND = "sqlite:///headwater.db"


def _server_options(command: Any) -> Any:
    options = [
        click.option("--backend-store-uri", default=None, metavar="URI",
                     help=f"Tracking store URI (SQLAlchemy database URI or a plugin's scheme)."
                          f" Default: {_DEFAULT_BACKEND} in the working directory."),
        click.option("--registry-store-uri", default=None, metavar="URI",
                     help="Model registry store URI. Default: the backend store URI."),
        click.option("--default-artifact-root", default=None, metavar="URI",
                     help="Artifact root of new experiments. Default: mlflow-artifacts:/ (the proxy) when"
                          " serving artifacts, else ./mlruns."),
        click.option("--serve-artifacts/--no-serve-artifacts", default=True, show_default=True,
                     help="Serve the artifact proxy at /api/2.0/mlflow-artifacts/."),
        click.option("--artifacts-destination", default=None, metavar="URI",
                     help="Where the artifact proxy stores files. Default: ./mlartifacts."),
        click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
        click.option("--port", "-p", default=5000, show_default=True, type=int, help="Port to listen on."),
        click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(min=1),
                     help="Worker processes (the server keeps no state; any number can share a database)."),
        click.option("--static-prefix", default="", metavar="PREFIX",
                     help="Serve every route under this path prefix, e.g. /mlflow."),
        click.option("--access-log/--no-access-log", default=False, show_default=True,
                     help="Log every request."),
        click.option("--app-name", default=None, metavar="NAME",
                     help="Turn on a server app plugin by name, as `mlflow server --app-name`:"
                          " basic-auth needs the headwater-auth distribution."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(open_browser: bool, **options: Any) -> None:
    try:
        import uvicorn

        from headwater_server.config import ServerConfig
    except ImportError as exc:  # pragma: no cover - depends on what is installed
        raise click.ClickException(f"the server needs the headwater-server distribution: pip install headwater-server ({exc})")

    prefix = options["static_prefix"]
    if prefix and not prefix.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--static-prefix")
    config = ServerConfig(
        backend_store_uri=options["backend_store_uri"] or _DEFAULT_BACKEND,
        registry_store_uri=options["registry_store_uri"],
        default_artifact_root=options["default_artifact_root"],
        serve_artifacts=options["serve_artifacts"],
        artifacts_destination=options["artifacts_destination"],
        static_prefix=prefix,
        **_max_request_bytes(),
    ).resolved()
    # Workers build their app from the environment (uvicorn's app factory).
    for stale in [k for k in os.environ if k.startswith("HEADWATER_SERVER_")]:
        del os.environ[stale]
    os.environ.update(config.to_env())
    if options.get("app_name"):
        _check_app_name(options["app_name"])
        os.environ["HEADWATER_APP_NAME"] = options["app_name"]  # read by server extensions (headwater-auth)
    workers = options["workers"]
    if workers > 1:
        _prepare_store(config)  # create or upgrade the schema once, not in N racing workers
    host, port = options["host"], options["port"]
    if open_browser:
        _open_browser_when_up(host, port, config.static_prefix)
    uvicorn.run(
        "headwater_server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        access_log=options["access_log"],
        log_level="info",
    )


# --app-name values and the distribution that serves each; refusing an unknown one
# matters: a typo must not start a server without the authentication asked for.
APP_NAMES = {"basic-auth": ("headwater_auth", "headwater-auth")}


def _check_app_name(name: str) -> None:
    import importlib.util

    if name not in APP_NAMES:
        raise click.BadParameter(f"unknown app {name!r}; known: {', '.join(sorted(APP_NAMES))}",
                                 param_hint="--app-name")
    module, distribution = APP_NAMES[name]
    if importlib.util.find_spec(module) is None:
        raise click.ClickException(f"--app-name {name} needs the {distribution} distribution: pip install {distribution}")


def _max_request_bytes() -> dict[str, int]:
    value = os.environ.get("HEADWATER_MAX_REQUEST_BYTES")
    if not value:
        return {}
    try:
        return {"max_request_bytes": int(value)}
    except ValueError:
        raise click.ClickException(f"HEADWATER_MAX_REQUEST_BYTES must be a number of bytes, not {value!r}")


def _prepare_store(config: Any) -> None:
    from headwater.plugins.manager import make_plugin_manager

    manager = make_plugin_manager()
    try:
        manager.tracking_store(config.backend_store_uri, config.default_artifact_root)
    finally:
        manager.close()


def _open_browser_when_up(host: str, port: int, prefix: str) -> None:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{shown_host}:{port}{prefix}/"

    def wait_and_open() -> None:
        import urllib.request
        import webbrowser

        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        webbrowser.open(url)

    threading.Thread(target=wait_and_open, name="headwater-open-browser", daemon=True).start()


@click.command("server")
@_server_options
def server(**options: Any) -> None:
    """Run the tracking server (MLflow's REST API and the artifact proxy)."""
    _run(open_browser=False, **options)


@click.command("ui")
@_server_options
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
def ui(no_browser: bool, **options: Any) -> None:
    """Run the tracking server and open it in a web browser."""
    _run(open_browser=not no_browser, **options)
