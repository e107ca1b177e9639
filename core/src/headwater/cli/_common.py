"""Helpers shared by the CLI commands: the client, errors, output."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def client() -> Any:
    """A tracking client for the current tracking URI (imported here, not at CLI start-up)."""
    from headwater.tracking.client import Client

    return Client()


def reports_errors(func: F) -> F:
    """Turn Headwater errors into a one-line ``Error: ...`` and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from headwater.exceptions import HeadwaterError

        try:
            return func(*args, **kwargs)
        except HeadwaterError as exc:
            code = getattr(exc.error_code, "value", exc.error_code)
            raise click.ClickException(f"{exc.message} ({code})") from exc

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def print_table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """A table for people (rich); scripts should use ``--json``."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")  # wrap long ids and names, never cut them
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def view_type_option(func: F) -> F:
    return click.option(
        "--view",
        "-v",
        "view",
        type=click.Choice(["active_only", "deleted_only", "all"], case_sensitive=False),
        default="active_only",
        show_default=True,
        help="Which lifecycle stages to include.",
    )(func)
