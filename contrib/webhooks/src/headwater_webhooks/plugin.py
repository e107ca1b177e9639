"""Entry point of the ``webhooks`` plugin: the REST endpoints and a delivery lane per active webhook.

Installed on a server whose store is a SQL database, it keeps its tables in
that database (own Alembic chain) and adds ``/api/2.0/mlflow/webhooks``.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import Observer, ServerExtension

log = logging.getLogger("headwater.webhooks")

# The runtime of the server in this process (set when the server installs the extension).
_runtime: Any = None


def current_runtime() -> Any:
    return _runtime


def _subscriptions() -> list[Any]:
    return _runtime.subscriptions() if _runtime is not None else []


def install(app: Any) -> None:
    global _runtime
    uri = getattr(app.state.config, "backend_store_uri", "")
    if not uri.split(":", 1)[0].split("+", 1)[0] in ("sqlite", "postgresql", "mysql"):
        log.warning("webhooks need a SQL backend store; %s is not one: webhooks are off", uri.split(":", 1)[0])
        return
    from headwater_webhooks.api import webhook_routes
    from headwater_webhooks.runtime import WebhookRuntime

    _runtime = WebhookRuntime(uri)
    app.state.webhooks = _runtime
    app.router.routes[0:0] = webhook_routes(_runtime, app.state.static_prefix)


@hookimpl
def headwater_server_extensions() -> Iterator[ServerExtension]:
    yield ServerExtension(name="webhooks", install=install)


@hookimpl
def headwater_observers() -> Iterator[Observer]:
    yield Observer(name="webhooks", subscriptions=_subscriptions)
