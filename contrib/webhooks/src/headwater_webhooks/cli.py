"""``headwater webhooks``: manage a tracking server's webhooks through its REST API.

The server is the tracking URI (``--tracking-uri``, ``HEADWATER_TRACKING_URI``
or ``MLFLOW_TRACKING_URI``), which must be ``http(s)://``. Credentials come
from ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` or
``MLFLOW_TRACKING_TOKEN``, as for every REST call.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click


def _server(uri: str | None) -> str:
    uri = uri or os.environ.get("HEADWATER_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri.startswith(("http://", "https://")):
        raise click.UsageError("Webhooks live on a tracking server: give --tracking-uri http(s)://host:port.")
    return uri.rstrip("/")


def call(uri: str | None, method: str, path: str, body: Any = None, root: str = "/api/2.0/mlflow") -> Any:
    import requests

    auth = None
    headers = {}
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
    elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
        auth = (os.environ["MLFLOW_TRACKING_USERNAME"], os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))
    response = requests.request(method, f"{_server(uri)}{root}/{path}", json=body, auth=auth, headers=headers,
                                timeout=60)
    try:
        data = response.json()
    except ValueError:
        data = {"message": response.text}
    if response.status_code != 200:
        raise click.ClickException(f"{data.get('message', response.text)} ({data.get('error_code', response.status_code)})")
    return data


def _events(values: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for value in values:
        entity, _, action = value.partition(".")
        if not action:
            raise click.BadParameter(f"'{value}': write events as entity.action, e.g. model_version.created")
        out.append({"entity": entity, "action": action})
    return out


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


_uri = click.option("--tracking-uri", "uri", help="The tracking server (default: the tracking URI).")


@click.group()
def webhooks() -> None:
    """Webhooks of a tracking server (headwater-webhooks)."""


@webhooks.command("list")
@_uri
def list_webhooks(uri: str | None) -> None:
    """List the webhooks."""
    _echo(call(uri, "GET", "webhooks").get("webhooks", []))


@webhooks.command()
@_uri
@click.option("--name", required=True)
@click.option("--url", required=True)
@click.option("--event", "events", multiple=True, required=True, help="entity.action, repeatable.")
@click.option("--description")
@click.option("--secret", help="Signs deliveries (X-MLflow-Signature).")
@click.option("--experiment-id", "experiment_ids", multiple=True, help="Only events of these experiments.")
@click.option("--model-name", "model_names", multiple=True, help="Only events of these registered models.")
@click.option("--disabled", is_flag=True, help="Create it DISABLED.")
def create(uri, name, url, events, description, secret, experiment_ids, model_names, disabled) -> None:
    """Create a webhook."""
    body: dict[str, Any] = {"name": name, "url": url, "events": _events(events),
                            "status": "DISABLED" if disabled else "ACTIVE"}
    for key, value in (("description", description), ("secret", secret)):
        if value is not None:
            body[key] = value
    if experiment_ids:
        body["experiment_ids"] = list(experiment_ids)
    if model_names:
        body["model_names"] = list(model_names)
    _echo(call(uri, "POST", "webhooks", body)["webhook"])


@webhooks.command()
@_uri
@click.argument("webhook_id")
@click.option("--name")
@click.option("--url")
@click.option("--event", "events", multiple=True, help="entity.action, repeatable (replaces the list).")
@click.option("--description")
@click.option("--secret")
@click.option("--status", type=click.Choice(["ACTIVE", "DISABLED"], case_sensitive=False))
def update(uri, webhook_id, name, url, events, description, secret, status) -> None:
    """Change a webhook."""
    body: dict[str, Any] = {k: v for k, v in (("name", name), ("url", url), ("description", description),
                                              ("secret", secret), ("status", status)) if v is not None}
    if events:
        body["events"] = _events(events)
    _echo(call(uri, "PATCH", f"webhooks/{webhook_id}", body)["webhook"])


@webhooks.command()
@_uri
@click.argument("webhook_id")
def delete(uri: str | None, webhook_id: str) -> None:
    """Delete a webhook."""
    call(uri, "DELETE", f"webhooks/{webhook_id}")
    click.echo(f"Deleted webhook {webhook_id}.")


@webhooks.command()
@_uri
@click.argument("webhook_id")
@click.option("--event", help="entity.action to send a sample of (default: the webhook's first).")
def test(uri: str | None, webhook_id: str, event: str | None) -> None:
    """Send a sample event now and show the receiver's answer."""
    body = {"event": _events((event,))[0]} if event else {}
    result = call(uri, "POST", f"webhooks/{webhook_id}/test", body)["result"]
    _echo(result)
    if not result.get("success"):
        raise SystemExit(1)


@webhooks.command()
@_uri
@click.argument("webhook_id")
def deliveries(uri: str | None, webhook_id: str) -> None:
    """The webhook's recent deliveries: status, attempts, response, last error."""
    _echo(call(uri, "GET", f"webhooks/{webhook_id}/deliveries")["deliveries"])
