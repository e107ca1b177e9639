"""``headwater runs``: list, describe, delete and restore runs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import click

from headwater.cli._common import client, echo_json, print_table, reports_errors, view_type_option

_RUN_ID = click.option("--run-id", required=True, help="Id of the run.")


def run_as_dict(run: Any) -> dict[str, Any]:
    """A run as JSON-ready dict: info, then data with metrics/params/tags as mappings."""
    info = run.info.model_dump(mode="json")
    info["run_uuid"] = run.info.run_id
    return {
        "info": info,
        "data": {"metrics": run.data.metrics, "params": run.data.params, "tags": run.data.tags},
        "inputs": run.inputs.model_dump(mode="json", by_alias=True),
    }


def _date(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@click.group()
def runs() -> None:
    """Manage runs (of the tracking URI in HEADWATER_TRACKING_URI / MLFLOW_TRACKING_URI)."""


@runs.command("list")
@click.option("--experiment-id", "-x", envvar=["HEADWATER_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"],
              required=True, help="Experiment whose runs to list.")
@view_type_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_runs(experiment_id: str, view: str, as_json: bool) -> None:
    """List the runs of an experiment, newest first."""
    infos = client().list_run_infos(experiment_id, view.upper())
    if as_json:
        echo_json([dict(i.model_dump(mode="json"), run_uuid=i.run_id) for i in infos])
        return
    print_table(
        ["Date (UTC)", "Name", "ID", "Status"],
        [[_date(i.start_time), i.run_name, i.run_id, i.status.value] for i in infos],
    )


@runs.command()
@_RUN_ID
@reports_errors
def describe(run_id: str) -> None:
    """Print a run (info, metrics, params, tags) as JSON."""
    echo_json(run_as_dict(client().get_run(run_id)))


@runs.command()
@_RUN_ID
@reports_errors
def delete(run_id: str) -> None:
    """Mark a run deleted (restorable)."""
    client().delete_run(run_id)
    click.echo(f"Run with ID {run_id} has been deleted.")


@runs.command()
@_RUN_ID
@reports_errors
def restore(run_id: str) -> None:
    """Restore a deleted run."""
    client().restore_run(run_id)
    click.echo(f"Run with ID {run_id} has been restored.")
