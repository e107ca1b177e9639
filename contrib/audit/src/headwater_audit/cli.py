"""``headwater audit verify``: check an audit log's hash chain."""

from __future__ import annotations

import os
from pathlib import Path

import click

from headwater_audit.config import KEY_ENV, LOG_ENV


@click.group()
def audit() -> None:
    """The audit log (headwater-audit)."""


@audit.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--key", envvar=KEY_ENV, help=f"The HMAC key the log was written with (default: ${KEY_ENV}).")
@click.option("--allow-partial", is_flag=True, help="Accept a log whose oldest rotated files were removed.")
def verify(path: str | None, key: str | None, allow_partial: bool) -> None:
    """Verify the chain of the audit log at PATH (default: $HEADWATER_AUDIT_LOG) and its rotated files.

    Exits with status 1, naming each broken line, if any record was edited,
    removed, inserted or reordered, or lines were cut off the end.
    """
    from headwater_audit.chain import log_files, verify as check

    path = path or os.environ.get(LOG_ENV)
    if not path:
        raise click.UsageError(f"Give the log's path or set {LOG_ENV}.")
    if not log_files(Path(path)):
        raise click.ClickException(f"No audit log at {path}.")
    result = check(path, key.encode("utf-8") if key else None, allow_partial=allow_partial)
    for problem in result.problems:
        click.echo(problem, err=True)
    if not result.ok:
        raise click.ClickException(f"The audit log at {path} is NOT intact ({len(result.problems)} problem(s)).")
    click.echo(f"OK: {result.records} records in {result.files} file(s), chain intact through seq"
               f" {result.last_seq}.")
