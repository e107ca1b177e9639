"""Durable event delivery on the server, and who and where each change came from.

When the store can write events in its own transactions (the SQL store on a
database file or server: ``store.enable_event_outbox``), the observer plugins'
receivers become delivery lanes of an outbox dispatcher, one per database,
running in this process beside the API (docs/observers.md). Otherwise (an
in-memory database, a store without an outbox) they are connected to the
in-process event bus, as in a client process: best effort.

:class:`ClientContext` records each request's client address and user agent
in :data:`headwater.events.bus.current_client`, for the events it causes.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from headwater.events import install_plugin_observers
from headwater.events.bus import current_client
from headwater.events.catalogue import Client
from headwater.events.delivery import LaneSource, WantedEvents

log = logging.getLogger("headwater.server")


class DurableEvents:
    """The outbox dispatchers of this server process, one per database."""

    def __init__(self, plugin_manager: Any):
        self.plugin_manager = plugin_manager
        self.lanes = LaneSource.from_manager(plugin_manager)
        self.wanted = WantedEvents()
        self.dispatchers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._in_process = False
        self._started = False

    @property
    def has_observers(self) -> bool:
        return bool(self.lanes.static or self.lanes.dynamic)

    def attach(self, store: Any) -> bool:
        """Give ``store`` an outbox and its database a dispatcher; False if it cannot have one."""
        enable = getattr(store, "enable_event_outbox", None)
        outbox = enable(self.wanted) if enable is not None and self.has_observers else None
        if outbox is None:
            self._deliver_in_process()
            return False
        with self._lock:
            if outbox.key not in self.dispatchers:
                dispatcher = self.dispatchers[outbox.key] = outbox.dispatcher(self.lanes.lanes, self.wanted.update)
                if self._started:
                    dispatcher.start()
        return True

    def _deliver_in_process(self) -> None:
        with self._lock:
            if self._in_process or self.dispatchers:
                return
            self._in_process = True
        install_plugin_observers(self.plugin_manager)

    def start(self) -> None:
        with self._lock:
            self._started = True
            for dispatcher in self.dispatchers.values():
                dispatcher.start()

    def stop(self) -> None:
        with self._lock:
            dispatchers = list(self.dispatchers.values())
            self.dispatchers.clear()
            self._started = False
        for dispatcher in dispatchers:
            dispatcher.stop()


class ClientContext:
    """ASGI middleware: the request's client address and user agent, for the events it raises."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        agent = None
        for name, value in scope.get("headers", ()):
            if name == b"user-agent":
                agent = value.decode("latin-1")[:500]
                break
        token = current_client.set(Client(address=client[0] if client else None, user_agent=agent))
        try:
            await self.app(scope, receive, send)
        finally:
            current_client.reset(token)
