"""Delivering events off the caller's path.

``EventBus.publish`` only puts the event on a queue; a dispatcher thread sends
the blinker signals. Observers connected through :meth:`EventBus.connect_isolated`
(plugin observers and external observers) each get a worker thread and queue of
their own, so one that raises or blocks never delays the caller or the others.
In-process delivery is best effort; the server's durable outbox builds on it.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import queue
import threading
from typing import Any, Callable

from pydantic import BaseModel

from headwater.events.catalogue import Client, Event
from headwater.events.signals import ANY, signal

log = logging.getLogger("headwater.events")

#: Who is acting, where known: the server sets it per request, the client to the local user.
current_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("headwater_actor", default=None)
#: Where the change came from (address, user agent): the server sets it per request.
current_client: contextvars.ContextVar[Client | None] = contextvars.ContextVar("headwater_client", default=None)


def new_event(name: str, payload: BaseModel, actor: str | None = None) -> Event:
    """An event envelope for ``payload``, with the acting user and client of this context."""
    return Event(
        name=name,
        actor=actor if actor is not None else current_actor.get(),
        client=current_client.get(),
        payload=payload,
    )

_QUEUE_LIMIT = 100_000


class _Worker:
    """A daemon thread draining one queue into one callable."""

    def __init__(self, label: str, handle: Callable[[Any], None]):
        self.label = label
        self._handle = handle
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_LIMIT)
        self._thread = threading.Thread(target=self._run, name=f"headwater-{label}", daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            log.error("observer %s is %d events behind; dropping %r", self.label, _QUEUE_LIMIT, item)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                self._handle(item)
            except Exception:
                log.exception("observer %s failed", self.label)
            finally:
                self._queue.task_done()

    def join(self, timeout: float | None) -> bool:
        """Wait until the queue is drained; False if ``timeout`` passed first."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)


class EventBus:
    """Queues events and sends their signals from a dispatcher thread."""

    def __init__(self, sender: Any = None):
        self.sender = sender if sender is not None else self
        self._dispatcher: _Worker | None = None
        self._workers: list[_Worker] = []
        self._connections: list[tuple[Any, Callable[..., Any]]] = []
        self._lock = threading.Lock()

    # -- publishing ------------------------------------------------------------
    def wants(self, name: str) -> bool:
        """Whether anyone listens to ``name`` on this bus; lets hot paths skip building events.

        Receivers bound to another bus (as sender) do not count.
        """
        return signal(name).has_receivers_for(self.sender) or ANY.has_receivers_for(self.sender)

    def publish(self, name: str, payload: BaseModel, actor: str | None = None) -> Event | None:
        """Announce that ``name`` happened. Returns the event, or None if nobody listens."""
        if not self.wants(name):
            return None
        event = new_event(name, payload, actor)
        self._ensure_dispatcher().put(event)
        return event

    def publish_event(self, event: Event) -> None:
        """Announce an event built elsewhere (the outbox's, after its commit), if anyone listens."""
        if self.wants(event.name):
            self._ensure_dispatcher().put(event)

    def _ensure_dispatcher(self) -> _Worker:
        if self._dispatcher is None:
            with self._lock:
                if self._dispatcher is None:
                    self._dispatcher = _Worker("dispatcher", self._dispatch)
        return self._dispatcher

    def _dispatch(self, event: Event) -> None:
        for sig in (signal(event.name), ANY):
            for receiver in list(sig.receivers_for(self.sender)):
                try:
                    receiver(self.sender, event=event)
                except Exception:
                    log.exception("receiver %r of %s failed", receiver, event.name)

    # -- subscribing -------------------------------------------------------------
    def connect_isolated(self, event_name: str, receiver: Callable[..., Any], label: str) -> Callable[..., Any]:
        """Connect ``receiver`` behind a worker of its own; returns the connected wrapper.

        ``event_name`` may be ``"*"`` for every event.
        """
        worker = _Worker(label, lambda item: receiver(item[0], event=item[1]))
        self._workers.append(worker)

        def enqueue(sender: Any, event: Event, **extra: Any) -> None:
            worker.put((sender, event))

        enqueue.__name__ = f"isolated_{label}"
        sig = ANY if event_name == "*" else signal(event_name)
        # Bound to this bus as sender, so another bus (a test's, say) never feeds it.
        sig.connect(enqueue, sender=self.sender, weak=False)
        self._connections.append((sig, enqueue))
        return enqueue

    def close(self, timeout: float | None = 2.0) -> None:
        """Deliver what is queued, then disconnect every receiver this bus connected."""
        self.flush(timeout)
        for sig, receiver in self._connections:
            # Without a sender: blinker keeps a receiver listed until it is disconnected from all senders.
            sig.disconnect(receiver)
        self._connections.clear()

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every queued event reached every receiver's queue and was handled."""
        ok = True
        if self._dispatcher is not None:
            ok = self._dispatcher.join(timeout)
        for worker in list(self._workers):
            ok = worker.join(timeout) and ok
        return ok


_bus: EventBus | None = None
_bus_lock = threading.Lock()


def get_event_bus() -> EventBus:
    """The process's event bus, created on first use."""
    global _bus
    with _bus_lock:
        if _bus is None:
            _bus = EventBus()
            # Deliver what is queued when the interpreter exits, briefly.
            atexit.register(_bus.flush, 2.0)
        return _bus
