"""Entry point of the ``alerts`` plugin: rule endpoints and an observer that evaluates the rules.

Installed on a server whose store is a SQL database, it keeps its rules in
that database (own Alembic chain). ``HEADWATER_ALERTS_BASE_URL`` (the
server's public URL) adds a link to the run in each notification.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import Observer, ServerExtension

log = logging.getLogger("headwater.alerts")

_engine: Any = None


def install(app: Any) -> None:
    global _engine
    uri = getattr(app.state.config, "backend_store_uri", "")
    if uri.split(":", 1)[0].split("+", 1)[0] not in ("sqlite", "postgresql", "mysql"):
        log.warning("alerts need a SQL backend store: alerts are off")
        return
    from headwater_alerts.api import alert_routes
    from headwater_alerts.rules import AlertEngine

    _engine = AlertEngine(uri, app.state.store, base_url=os.environ.get("HEADWATER_ALERTS_BASE_URL"))
    app.state.alerts = _engine
    app.router.routes[0:0] = alert_routes(_engine, app.state.static_prefix)


def _subscriptions() -> list[Any]:
    """One lane for all rules, and only while some rule is active: no rule, no events written."""
    if _engine is None or not _engine.active_rules():
        return []
    from headwater.events.delivery import Subscription
    from headwater_alerts.rules import WATCHED_EVENTS

    return [Subscription(key="rules", deliver=_engine.deliver, events=WATCHED_EVENTS)]


def _tick() -> None:
    if _engine is not None:
        _engine.tick()


@hookimpl
def headwater_server_extensions() -> Iterator[ServerExtension]:
    yield ServerExtension(name="alerts", install=install)


@hookimpl
def headwater_observers() -> Iterator[Observer]:
    # tick: the silence check, in the one process that holds the observer's lane.
    yield Observer(name="alerts", subscriptions=_subscriptions, tick=_tick)
