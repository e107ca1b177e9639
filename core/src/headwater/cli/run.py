"""``headwater run URI``: run a project entry point and record it as a run.

Accepts the options of ``mlflow run`` (and the deprecated ``--no-conda`` that
older R clients pass), so ``MLFLOW_BIN=headwater`` serves the R package's
``mlflow_run``, which reads the run id from the ``Run (ID '...')`` line on
stderr. Exit status: 0 when the run FINISHED, 1 when it FAILED (or could not
start), 130 when it was interrupted and ended KILLED.
"""

from __future__ import annotations

import signal
from typing import Any

import click

from headwater.cli._common import reports_errors

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")


def _docker_args(items: tuple[str, ...]) -> dict[str, str | bool]:
    args: dict[str, str | bool] = {}
    for item in items:
        name, sep, value = item.partition("=")
        args[name] = value if sep else True
    return args


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a job scheduler stopping us) ends the run like Ctrl-C does: KILLED."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@click.command("run")
@click.argument("uri")
@click.option("-e", "--entry-point", default="main", show_default=True, help="Entry point to run.")
@click.option("-v", "--version", help="Git commit, branch or tag to run (git projects).")
@click.option("-P", "--param-list", "param_list", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the entry point; repeat for several.")
@click.option("-A", "--docker-args", multiple=True, metavar="NAME[=VALUE]",
              help="An argument for `docker run` (docker_env projects); repeat for several.")
@click.option("--experiment-name", help="Experiment to record the run in; created when missing"
              " (default: HEADWATER_/MLFLOW_EXPERIMENT_NAME or _ID, else 0).")
@click.option("--experiment-id", help="Experiment id to record the run in.")
@click.option("-b", "--backend", default="local", show_default=True,
              help="Where to run: local, or a backend a plugin provides.")
@click.option("-c", "--backend-config", help="Backend configuration: a JSON file or a JSON string.")
@click.option("--env-manager", type=click.Choice(ENV_MANAGERS),
              help="Environment to run in (default: from python_env/conda_env/docker_env, else local).")
@click.option("--no-conda", is_flag=True, hidden=True, help="Deprecated: same as --env-manager local.")
@click.option("--storage-dir", type=click.Path(file_okay=False),
              help="Where remote `path` parameters are downloaded.")
@click.option("--run-id", help="Record into this existing run instead of creating one.")
@click.option("--run-name", help="Name of the new run.")
@reports_errors
def run(uri: str, entry_point: str, version: str | None, param_list: tuple[str, ...],
        docker_args: tuple[str, ...], experiment_name: str | None, experiment_id: str | None,
        backend: str, backend_config: str | None, env_manager: str | None, no_conda: bool,
        storage_dir: str | None, run_id: str | None, run_name: str | None) -> None:
    """Run an entry point of the project at URI and record it as a run.

    URI is a local folder or a git repository (path or URL); URI#sub/dir runs
    the project in a subfolder. Running a project runs its code: run only
    projects you trust.
    """
    from headwater.projects import ProjectRunFailed
    from headwater.projects import run as run_project
    from headwater.projects.params import parse_param_list

    if no_conda:
        if env_manager not in (None, "local"):
            raise click.UsageError("--no-conda and --env-manager disagree; use --env-manager only.")
        env_manager = "local"
    _interrupt_on_sigterm()
    try:
        run_project(
            uri, entry_point=entry_point, version=version, parameters=parse_param_list(param_list),
            docker_args=_docker_args(docker_args), experiment_name=experiment_name,
            experiment_id=experiment_id, backend=backend, backend_config=backend_config,
            env_manager=env_manager, storage_dir=storage_dir, run_id=run_id, run_name=run_name,
        )
    except ProjectRunFailed as exc:
        raise SystemExit(1) from exc
    except KeyboardInterrupt:
        click.echo("Interrupted: the run ended KILLED.", err=True)
        raise SystemExit(130) from None
