"""``headwater experiments``: create, search, rename, delete and restore experiments."""

from __future__ import annotations

import click

from headwater.cli._common import client, echo_json, print_table, reports_errors, view_type_option

_ID = click.option("--experiment-id", "-x", required=True, help="Id of the experiment.")


@click.group()
def experiments() -> None:
    """Manage experiments (of the tracking URI in HEADWATER_TRACKING_URI / MLFLOW_TRACKING_URI)."""


@experiments.command()
@click.option("--experiment-name", "-n", required=True, help="Name of the new experiment.")
@click.option("--artifact-location", "-l", default=None,
              help="Where the experiment's runs store artifacts (default: chosen by the store).")
@reports_errors
def create(experiment_name: str, artifact_location: str | None) -> None:
    """Create an experiment."""
    experiment_id = client().create_experiment(experiment_name, artifact_location)
    click.echo(f"Created experiment '{experiment_name}' with id {experiment_id}")


@experiments.command()
@view_type_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def search(view: str, as_json: bool) -> None:
    """List experiments."""
    found = client().list_experiments(view.upper())
    if as_json:
        echo_json([e.model_dump(mode="json") for e in found])
        return
    print_table(
        ["Experiment Id", "Name", "Artifact Location", "Lifecycle"],
        [[e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage] for e in found],
    )


@experiments.command()
@_ID
@click.option("--new-name", required=True, help="The new name.")
@reports_errors
def rename(experiment_id: str, new_name: str) -> None:
    """Rename an experiment."""
    client().rename_experiment(experiment_id, new_name)
    click.echo(f"Experiment with id {experiment_id} has been renamed to '{new_name}'.")


@experiments.command()
@_ID
@reports_errors
def delete(experiment_id: str) -> None:
    """Mark an experiment and its runs deleted (restorable)."""
    client().delete_experiment(experiment_id)
    click.echo(f"Experiment with id {experiment_id} has been deleted.")


@experiments.command()
@_ID
@reports_errors
def restore(experiment_id: str) -> None:
    """Restore a deleted experiment and its runs."""
    client().restore_experiment(experiment_id)
    click.echo(f"Experiment with id {experiment_id} has been restored.")
