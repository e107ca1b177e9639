"""``headwater events``: the server's event outbox (status, parked deliveries, replay).

These commands work on the database, like ``headwater db``: point
``--backend-store-uri`` (default: the tracking URI) at the server's store.
"""

from __future__ import annotations

from typing import Any

import click

from headwater.cli._common import echo_json, reports_errors

_URI_HELP = "The server's backend store URI (default: the tracking URI)."


def _outbox(uri: str | None) -> Any:
    from headwater.plugins.manager import get_plugin_manager
    from headwater.tracking.uri import resolve_tracking_uri

    uri = uri or resolve_tracking_uri()
    store = get_plugin_manager().tracking_store(uri)
    enable = getattr(store, "enable_event_outbox", None)
    outbox = enable() if enable is not None else None
    if outbox is None:
        raise click.ClickException(
            f"The store for {uri.split('://')[0]}:// has no event outbox (only a SQL database on a file or"
            " server has one)."
        )
    return outbox


@click.group()
def events() -> None:
    """The tracking server's event outbox and deliveries to observers."""


@events.command()
@click.option("--backend-store-uri", "uri", help=_URI_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reports_errors
def status(uri: str | None, as_json: bool) -> None:
    """Events waiting to be routed, and each lane's position, lag, holder and retries."""
    state = _outbox(uri).status()
    if as_json:
        echo_json(state)
        return
    click.echo(f"outbox: position {state['position']}, {state['unrouted']} not yet routed")
    for lane in state["lanes"]:
        click.echo(
            f"{lane['lane']}: position {lane['position']}, {lane['lag']} behind, {lane['retry']} retrying,"
            f" {lane['held']} held, {lane['parked']} parked, holder {lane['holder'] or '-'}"
        )


@events.command()
@click.option("--backend-store-uri", "uri", help=_URI_HELP)
@click.option("--lane", help="Only this lane (e.g. headwater_audit.audit).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reports_errors
def failed(uri: str | None, lane: str | None, as_json: bool) -> None:
    """Deliveries parked after their last attempt, with the reason."""
    rows = _outbox(uri).failed(lane)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No parked deliveries.")
        return
    for row in rows:
        click.echo(f"{row['lane']}  {row['event_id']}  {row['name']}  attempts={row['attempts']}")
        click.echo(f"    {row['last_error']}")


@events.command()
@click.option("--backend-store-uri", "uri", help=_URI_HELP)
@click.option("--lane", help="Only this lane's parked deliveries.")
@click.option("--event-id", "event_ids", multiple=True, help="Only this event (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every parked delivery.")
@reports_errors
def replay(uri: str | None, lane: str | None, event_ids: tuple[str, ...], everything: bool) -> None:
    """Deliver parked events again (the lane's holder picks them up within seconds)."""
    if not (lane or event_ids or everything):
        raise click.UsageError("Name what to replay: --lane, --event-id or --all.")
    count = _outbox(uri).replay(lane=lane, event_ids=list(event_ids) or None)
    click.echo(f"{count} parked deliver{'y' if count == 1 else 'ies'} will be tried again.")
