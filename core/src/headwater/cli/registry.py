"""``headwater models registered|versions|alias``: the model registry from the command line.

The registry is the one of ``HEADWATER_REGISTRY_URI`` / ``MLFLOW_REGISTRY_URI``,
else of the tracking URI. Every listing has ``--json`` for scripts.
"""

from __future__ import annotations

from typing import Any

import click

from headwater.cli._common import client, echo_json, print_table, reports_errors

_NAME = click.option("--name", "-n", required=True, help="Name of the registered model.")
_VERSION = click.option("--version", "-v", "version", required=True, help="Version number.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _tags(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--tag")
        out[key] = value
    return out


_TAG = click.option("--tag", "-t", "tags", multiple=True, metavar="KEY=VALUE", help="A tag (repeatable).")


def _dump(items: Any) -> Any:
    if isinstance(items, list):
        return [item.model_dump(mode="json") for item in items]
    return items.model_dump(mode="json")


def _collect(search: Any, limit: int | None) -> list:
    out: list = []
    token = None
    while limit is None or len(out) < limit:
        page = search(token)
        out.extend(page.items)
        token = page.token
        if not token:
            break
    return out if limit is None else out[:limit]


def _version_rows(versions: list) -> list[list[Any]]:
    return [[v.name, v.version, v.current_stage, ", ".join(v.aliases), v.source, v.run_id] for v in versions]


_VERSION_COLUMNS = ["Name", "Version", "Stage", "Aliases", "Source", "Run Id"]


# -- registered models ------------------------------------------------------------------------
@click.group()
def registered() -> None:
    """Create, list, describe, rename and delete registered models."""


@registered.command("list")
@click.option("--filter", "-f", "filter_string", default=None, help="e.g. \"name LIKE 'churn-%'\".")
@click.option("--order-by", "-o", multiple=True, help="e.g. 'name DESC' (repeatable).")
@click.option("--max-results", "-m", type=click.IntRange(min=1), default=None, help="At most this many.")
@_JSON
@reports_errors
def list_models(filter_string: str | None, order_by: tuple[str, ...], max_results: int | None, as_json: bool) -> None:
    """List registered models (every page)."""
    c = client()
    found = _collect(lambda token: c.search_registered_models(filter_string, 1000, list(order_by), token), max_results)
    if as_json:
        echo_json(_dump(found))
        return
    print_table(
        ["Name", "Latest Versions", "Aliases", "Description"],
        [[m.name, ", ".join(f"{v.version} ({v.current_stage})" for v in m.latest_versions),
          ", ".join(f"{a}={v}" for a, v in m.aliases.items()), m.description] for m in found],
    )


@registered.command()
@_NAME
@click.option("--description", "-d", default=None, help="What the model is.")
@_TAG
@reports_errors
def create(name: str, description: str | None, tags: tuple[str, ...]) -> None:
    """Create a registered model."""
    client().create_registered_model(name, _tags(tags), description)
    click.echo(f"Created registered model '{name}'.")


@registered.command()
@_NAME
@_JSON
@reports_errors
def describe(name: str, as_json: bool) -> None:
    """Show a registered model with its tags, aliases and latest versions."""
    model = client().get_registered_model(name)
    if as_json:
        echo_json(_dump(model))
        return
    click.echo(f"Name:        {model.name}")
    click.echo(f"Description: {model.description or ''}")
    click.echo(f"Tags:        {', '.join(f'{k}={v}' for k, v in model.tags.items())}")
    click.echo(f"Aliases:     {', '.join(f'{a}={v}' for a, v in model.aliases.items())}")
    print_table(_VERSION_COLUMNS, _version_rows(model.latest_versions), title="Latest versions")


@registered.command()
@_NAME
@click.option("--new-name", required=True, help="The new name.")
@reports_errors
def rename(name: str, new_name: str) -> None:
    """Rename a registered model (its versions follow)."""
    client().rename_registered_model(name, new_name)
    click.echo(f"Renamed registered model '{name}' to '{new_name}'.")


@registered.command()
@_NAME
@click.option("--description", "-d", required=True, help="The new description.")
@reports_errors
def update(name: str, description: str) -> None:
    """Replace a registered model's description."""
    client().update_registered_model(name, description)
    click.echo(f"Updated registered model '{name}'.")


@registered.command()
@_NAME
@click.confirmation_option(prompt="Delete the model with all its versions, tags and aliases?")
@reports_errors
def delete(name: str) -> None:
    """Delete a registered model with all its versions, tags and aliases (cannot be undone)."""
    client().delete_registered_model(name)
    click.echo(f"Deleted registered model '{name}'.")


@registered.command("set-tag")
@_NAME
@click.option("--key", "-k", required=True)
@click.option("--value", required=True)
@reports_errors
def set_model_tag(name: str, key: str, value: str) -> None:
    """Set a tag of a registered model."""
    client().set_registered_model_tag(name, key, value)
    click.echo(f"Set tag '{key}' of registered model '{name}'.")


@registered.command("delete-tag")
@_NAME
@click.option("--key", "-k", required=True)
@reports_errors
def delete_model_tag(name: str, key: str) -> None:
    """Delete a tag of a registered model."""
    client().delete_registered_model_tag(name, key)
    click.echo(f"Deleted tag '{key}' of registered model '{name}'.")


# -- model versions -----------------------------------------------------------------------------
@click.group()
def versions() -> None:
    """Create, list, describe, transition and delete model versions."""


@versions.command("list")
@click.option("--name", "-n", default=None, help="Only versions of this model.")
@click.option("--filter", "-f", "filter_string", default=None, help="e.g. \"run_id = 'abc'\".")
@click.option("--order-by", "-o", multiple=True, help="e.g. 'version_number DESC' (repeatable).")
@click.option("--max-results", "-m", type=click.IntRange(min=1), default=None, help="At most this many.")
@_JSON
@reports_errors
def list_versions(name: str | None, filter_string: str | None, order_by: tuple[str, ...], max_results: int | None,
                  as_json: bool) -> None:
    """List model versions (every page)."""
    conditions = [c for c in (f"name = '{name}'" if name else None, filter_string) if c]
    c = client()
    found = _collect(
        lambda token: c.search_model_versions(" and ".join(conditions) or None, 10_000, list(order_by), token),
        max_results,
    )
    if as_json:
        echo_json(_dump(found))
        return
    print_table(_VERSION_COLUMNS, _version_rows(found))


@versions.command("create")
@_NAME
@click.option("--source", "-s", default=None, help="Where the model files are (a storage URI or path).")
@click.option("--run-id", "-r", default=None, help="The run that produced the model.")
@click.option("--model-uri", "-u", default=None,
              help="Register runs:/<run>/<path> or models:/... instead (creates the model if needed).")
@click.option("--description", "-d", default=None)
@_TAG
@reports_errors
def create_version(name: str, source: str | None, run_id: str | None, model_uri: str | None,
                   description: str | None, tags: tuple[str, ...]) -> None:
    """Create a model version from --source, or register a --model-uri."""
    if (source is None) == (model_uri is None):
        raise click.UsageError("Give exactly one of --source or --model-uri.")
    c = client()
    if model_uri is not None:
        version = c.register_model(model_uri, name, _tags(tags))
        if description:
            version = c.update_model_version(name, version.version, description)
    else:
        version = c.create_model_version(name, source, run_id, _tags(tags), description=description)
    click.echo(f"Created version {version.version} of registered model '{name}'.")


@versions.command("describe")
@_NAME
@_VERSION
@_JSON
@reports_errors
def describe_version(name: str, version: str, as_json: bool) -> None:
    """Show one model version."""
    found = client().get_model_version(name, version)
    if as_json:
        echo_json(_dump(found))
        return
    for label, value in (
        ("Name", found.name), ("Version", found.version), ("Stage", found.current_stage),
        ("Status", found.status), ("Source", found.source), ("Run Id", found.run_id or ""),
        ("Aliases", ", ".join(found.aliases)), ("Tags", ", ".join(f"{k}={v}" for k, v in found.tags.items())),
        ("Description", found.description or ""),
    ):
        click.echo(f"{label + ':':<13}{value}")


@versions.command()
@_NAME
@_VERSION
@click.option("--stage", "-s", required=True, help="None, Staging, Production or Archived.")
@click.option("--archive-existing", is_flag=True, help="Move the other versions in that stage to Archived.")
@reports_errors
def transition(name: str, version: str, stage: str, archive_existing: bool) -> None:
    """Move a model version to another stage."""
    moved = client().transition_model_version_stage(name, version, stage, archive_existing)
    click.echo(f"Version {moved.version} of registered model '{name}' is now in stage {moved.current_stage}.")


@versions.command("delete")
@_NAME
@_VERSION
@reports_errors
def delete_version(name: str, version: str) -> None:
    """Delete a model version (its number is not reused)."""
    client().delete_model_version(name, version)
    click.echo(f"Deleted version {version} of registered model '{name}'.")


@versions.command()
@_NAME
@_VERSION
@click.option("--dst-path", "-d", default=None, help="Download into this directory (default: a new temporary one).")
@reports_errors
def download(name: str, version: str, dst_path: str | None) -> None:
    """Download a model version's files; prints the local path."""
    click.echo(client().download_artifacts_from_uri(f"models:/{name}/{version}", dst_path))


# -- aliases ------------------------------------------------------------------------------------
@click.group()
def alias() -> None:
    """Point aliases (champion, staging-candidate ...) at model versions."""


_ALIAS = click.option("--alias", "-a", "alias_name", required=True, help="The alias.")


@alias.command("set")
@_NAME
@_ALIAS
@_VERSION
@reports_errors
def set_alias(name: str, alias_name: str, version: str) -> None:
    """Point an alias at a version (moving it if it pointed elsewhere)."""
    client().set_registered_model_alias(name, alias_name, version)
    click.echo(f"Alias '{alias_name}' of registered model '{name}' now points at version {version}.")


@alias.command("delete")
@_NAME
@_ALIAS
@reports_errors
def delete_alias(name: str, alias_name: str) -> None:
    """Remove an alias."""
    client().delete_registered_model_alias(name, alias_name)
    click.echo(f"Deleted alias '{alias_name}' of registered model '{name}'.")


@alias.command("get")
@_NAME
@_ALIAS
@_JSON
@reports_errors
def get_alias(name: str, alias_name: str, as_json: bool) -> None:
    """Show the version an alias points at."""
    found = client().get_model_version_by_alias(name, alias_name)
    if as_json:
        echo_json(_dump(found))
        return
    print_table(_VERSION_COLUMNS, _version_rows([found]))
