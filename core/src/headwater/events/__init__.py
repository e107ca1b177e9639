"""Tracking events: the catalogue, blinker signals, and in-process delivery.

Subscribe in process with blinker::

    from headwater.events import signal

    @signal("log_metric").connect
    def on_metric(sender, event, **extra):
        print(event.payload.key, event.payload.value)

or, as the R API does, with :func:`register_external_observer`.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Protocol

from headwater.events.bus import EventBus, current_actor, get_event_bus
from headwater.events.catalogue import EVENT_NAMES, EVENT_PAYLOADS, Event
from headwater.events.signals import ANY, signal


class ExternalObserver(Protocol):
    def register_tracking_event(self, event_name: str, data: dict[str, Any]) -> Any: ...


def register_external_observer(observer: ExternalObserver, bus: EventBus | None = None) -> None:
    """Send every tracking event to ``observer.register_tracking_event(event_name, data)``.

    ``data`` is the event payload as a JSON-ready dict plus ``event_id``,
    ``timestamp`` and ``actor``. The observer runs on a thread of its own.
    """
    if not callable(getattr(observer, "register_tracking_event", None)):
        raise TypeError("an external observer needs a register_tracking_event(event_name, data) method")

    def deliver(sender: Any, event: Event, **extra: Any) -> None:
        data = event.payload.model_dump(mode="json")
        data.update(event_id=event.id, timestamp=event.timestamp, actor=event.actor)
        observer.register_tracking_event(event.name, data)

    (bus or get_event_bus()).connect_isolated("*", deliver, label=f"external-{type(observer).__name__}")


# Weak, not ids: a new manager may reuse a dropped one's id and would then be skipped.
_installed: "weakref.WeakSet[Any]" = weakref.WeakSet()
_installed_lock = threading.Lock()


def install_plugin_observers(manager: Any, bus: EventBus | None = None) -> None:
    """Connect every receiver of every observer plugin of ``manager`` (once per manager)."""
    bus = bus or get_event_bus()
    with _installed_lock:
        if manager in _installed:
            return
        _installed.add(manager)
    for observer, record in manager.observers():
        flush = getattr(observer, "flush", None)
        for event_name, receiver in observer.receivers.items():
            if flush is not None:
                receiver = _then_flush(receiver, flush)
            bus.connect_isolated(event_name, receiver, label=f"{record.name}.{observer.name}.{event_name}")


def _then_flush(receiver: Any, flush: Any) -> Any:
    # In process there are no batches: each event is its own.
    def deliver(sender: Any, event: Event, **extra: Any) -> None:
        receiver(sender, event=event, **extra)
        flush()

    return deliver


__all__ = [
    "ANY",
    "EVENT_NAMES",
    "EVENT_PAYLOADS",
    "Event",
    "EventBus",
    "current_actor",
    "get_event_bus",
    "install_plugin_observers",
    "register_external_observer",
    "signal",
]
