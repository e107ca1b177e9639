"""``headwater artifacts``: upload, list and download a run's artifacts.

The flags and the output are those of ``mlflow artifacts``, because MLflow's R
package runs these commands through the binary named by ``MLFLOW_BIN``:
``download`` prints the local path on its last line, ``list`` prints a JSON
list of ``{path, is_dir, file_size}``. The tracking URI comes from
``HEADWATER_TRACKING_URI`` or ``MLFLOW_TRACKING_URI``.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import click

from headwater.exceptions import HeadwaterError

_RUN_HELP = "Run ID into which we should log the artifact."
_PATH_HELP = "If specified, we will log the artifact into this subdirectory of the run's artifact directory."


def _reporting_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show a HeadwaterError as ``Error: <message>`` with exit status 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except HeadwaterError as err:
            raise click.ClickException(f"{err.message} (error code {err.to_dict()['error_code']})")

    return wrapper


def _client() -> Any:
    from headwater.tracking.client import Client

    return Client()


@click.group("artifacts")
def artifacts() -> None:
    """Upload, list and download the artifacts of runs.

    To work with the runs of a tracking server, set HEADWATER_TRACKING_URI (or
    MLFLOW_TRACKING_URI) to the server's URL.
    """


@artifacts.command("log-artifact")
@click.option("--local-file", "-l", required=True, help="Local path to artifact to log")
@click.option("--run-id", "-r", required=True, help=_RUN_HELP)
@click.option("--artifact-path", "-a", help=_PATH_HELP)
@_reporting_errors
def log_artifact(local_file: str, run_id: str, artifact_path: str | None) -> None:
    """Log a local file as an artifact of a run, optionally under a sub-directory."""
    if not os.path.isfile(local_file):
        raise click.BadParameter(f"Not a file: {local_file!r}", param_hint="--local-file")
    _client().log_artifact(run_id, local_file, artifact_path)
    click.echo(f"Logged artifact from local file {local_file} to artifact_path={artifact_path}", err=True)


@artifacts.command("log-artifacts")
@click.option("--local-dir", "-l", required=True, help="Directory of local artifacts to log")
@click.option("--run-id", "-r", required=True, help=_RUN_HELP)
@click.option("--artifact-path", "-a", help=_PATH_HELP)
@_reporting_errors
def log_artifacts(local_dir: str, run_id: str, artifact_path: str | None) -> None:
    """Log the files of a local directory, recursively, as artifacts of a run."""
    _client().log_artifacts(run_id, local_dir, artifact_path)
    click.echo(f"Logged artifact from local dir {local_dir} to artifact_path={artifact_path}", err=True)


@artifacts.command("list")
@click.option("--run-id", "-r", required=True, help="Run ID to be listed")
@click.option("--artifact-path", "-a", help="If specified, a path relative to the run's root directory to list.")
@_reporting_errors
def list_artifacts(run_id: str, artifact_path: str | None) -> None:
    """Print the artifacts directly under the run's root (or a sub-directory) as a JSON list."""
    infos = _client().list_artifacts(run_id, artifact_path or None)
    entries = []
    for info in infos:
        entry: dict[str, Any] = {"path": info.path, "is_dir": info.is_dir}
        if info.file_size is not None:
            entry["file_size"] = info.file_size
        entries.append(json.dumps(entry, indent=2))
    click.echo("[" + ", ".join(entries) + "]")


@artifacts.command("download")
@click.option("--run-id", "-r", help="Run ID from which to download")
@click.option(
    "--artifact-path",
    "-a",
    help="For use with Run ID: if specified, a path relative to the run's root directory to download",
)
@click.option(
    "--artifact-uri",
    "-u",
    help="URI pointing to the artifact file or artifacts directory; use as an alternative to"
    " specifying --run_id and --artifact-path",
)
@click.option(
    "--dst-path",
    "-d",
    help="Local directory to download into; created if missing. Without it, a new temporary directory.",
)
@_reporting_errors
def download(run_id: str | None, artifact_path: str | None, artifact_uri: str | None, dst_path: str | None) -> None:
    """Download an artifact file or directory; prints its local path on the last line.

    Give either --run-id (with an optional --artifact-path) or --artifact-uri;
    with --artifact-uri, --run-id and --artifact-path are ignored.
    """
    if dst_path is not None:
        os.makedirs(dst_path, exist_ok=True)
    client = _client()
    if artifact_uri is not None:
        local = _download_uri(client, artifact_uri, dst_path)
    elif run_id is not None:
        local = client.download_artifacts(run_id, artifact_path or "", dst_path)
    else:
        raise click.UsageError("Either --run-id or --artifact-uri must be provided.")
    click.echo(f"\n{local}")


def _download_uri(client: Any, uri: str, dst_path: str | None) -> str:
    """Download what ``uri`` names: ``runs:/<run_id>/<path>`` or any repository URI."""
    parts = urlsplit(uri)
    if parts.scheme in ("runs", "models"):
        # Model URIs resolve through logged models and the registry (so the R package's
        # mlflow_load_model works with MLFLOW_BIN=headwater).
        from headwater.models.uri import download_model

        return download_model(uri, dst_path, client=client)
    root, name = _split_uri(uri)
    resolve = getattr(client.store, "resolve_artifact_uri", None)
    if resolve is not None:
        root = resolve(root)
    repository = client.plugin_manager.artifact_repository(root)
    return repository.download_artifacts(name, dst_path)


def _split_uri(uri: str) -> tuple[str, str]:
    """``(parent URI, last path segment)``; a URI with no path is its own root."""
    parts = urlsplit(uri)
    if len(parts.scheme) <= 1:  # a plain local path (or a Windows drive letter)
        path = uri.rstrip("/\\")
        return os.path.dirname(path) or ".", os.path.basename(path)
    path = parts.path.rstrip("/")
    parent, name = posixpath.split(path)
    if not name:
        return uri, ""
    return urlunsplit((parts.scheme, parts.netloc, parent or "/", parts.query, parts.fragment)), name
