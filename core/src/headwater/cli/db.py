"""``headwater db``: database schema maintenance (needs the SQL store plugin)."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from headwater.cli._common import reports_errors

SQL_STORE_MODULE = "headwater_store_sql"
SQL_STORE_DISTRIBUTION = "headwater-store-sql"


def redact(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (safe to print)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _sql_store() -> Any:
    try:
        return importlib.import_module(SQL_STORE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != SQL_STORE_MODULE:
            raise click.ClickException(f"The SQL store plugin could not be imported: {exc}") from exc
        raise click.ClickException(
            f"`headwater db` needs the SQL store plugin, which is not installed:"
            f" pip install {SQL_STORE_DISTRIBUTION}"
        ) from exc


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@click.argument("url", required=False)
@reports_errors
def upgrade(url: str | None) -> None:
    """Upgrade the schema of the database at URL (default: the tracking URI) to the latest version.

    Also creates the tables of a new database. Back up production databases first.
    """
    from headwater.tracking.uri import resolve_tracking_uri

    uri = url or resolve_tracking_uri()
    revision = _sql_store().upgrade_database(uri)
    at = f" (schema revision {revision})" if revision else ""
    click.echo(f"Database {redact(uri)} is up to date{at}.")
