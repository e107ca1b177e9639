"""``headwater alerts``: manage a tracking server's alert rules through its REST API."""

from __future__ import annotations

import json
from typing import Any

import click

from headwater_webhooks.cli import call

_ROOT = "/api/2.0/headwater"
_uri = click.option("--tracking-uri", "uri", help="The tracking server (default: the tracking URI).")


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


@click.group()
def alerts() -> None:
    """Alert rules of a tracking server (headwater-alerts)."""


@alerts.command("list")
@_uri
def list_alerts(uri: str | None) -> None:
    """List the rules."""
    _echo(call(uri, "GET", "alerts", root=_ROOT)["alerts"])


@alerts.command()
@_uri
@click.option("--name", required=True)
@click.option("--condition", required=True,
              help="e.g. 'metrics.val_loss > 2.5', 'metrics.loss is NaN', 'status = FAILED', 'no metrics for 10 minutes'.")
@click.option("--filter", "filter_string", help="Which runs, in the run search grammar (default: all).")
@click.option("--url", required=True, help="Where notifications are POSTed (a Slack incoming webhook, say).")
@click.option("--format", "fmt", type=click.Choice(["slack", "json"]), default="slack", show_default=True)
def create(uri, name, condition, filter_string, url, fmt) -> None:
    """Create a rule (a malformed condition or filter is refused with the position of the error)."""
    body = {"name": name, "condition": condition, "url": url, "format": fmt}
    if filter_string:
        body["filter"] = filter_string
    _echo(call(uri, "POST", "alerts", body, root=_ROOT)["alert"])


@alerts.command()
@_uri
@click.argument("rule_id")
def show(uri: str | None, rule_id: str) -> None:
    """A rule and the runs it fired for."""
    _echo(call(uri, "GET", f"alerts/{rule_id}", root=_ROOT))


@alerts.command()
@_uri
@click.argument("rule_id")
def delete(uri: str | None, rule_id: str) -> None:
    """Delete a rule."""
    call(uri, "DELETE", f"alerts/{rule_id}", root=_ROOT)
    click.echo(f"Deleted alert rule {rule_id}.")
