"""Announcing a mutation's events: in the store's own transaction when it can, else after it.

A service wraps each store mutation in ``with announce(name) as emit:`` and
calls ``emit(PayloadModel, **fields)`` once the store call returned::

    with self._announce("log_metric") as emit:
        self.store.log_metric(run_id, metric)
        emit(ev.MetricLogged, run_id=run_id, key=metric.key, ...)

What the block does depends on the store and on who listens:

- The store has an :class:`EventOutbox` (``store.event_outbox``, the SQL store
  on the server) that wants the event: the block runs inside one database
  transaction; the store's writes join it, the emitted events are inserted
  into the outbox table in the same transaction, and it commits when the
  block ends. If anything in the block raises, nothing is written, no event
  exists. The events then go on the in-process bus as well, for blinker
  subscribers.
- Otherwise, when an in-process subscriber listens: ``emit`` publishes on the
  :class:`~headwater.events.bus.EventBus` (the store has committed by then).
- Nobody listens: ``emit`` does nothing, and no payload is built.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager, Iterator, Protocol, runtime_checkable

from pydantic import BaseModel

from headwater.events.bus import EventBus, new_event
from headwater.events.catalogue import Event

Emit = Callable[..., None]


@runtime_checkable
class EventOutbox(Protocol):
    """What a store offers to write events in the transaction of the change they announce."""

    def wants(self, name: str) -> bool:
        """Whether any durable observer takes events called ``name``."""

    def transaction(self) -> ContextManager[list[Event]]:
        """One transaction that the store's writes inside it join.

        Events appended to the yielded list are written to the outbox in that
        transaction, which commits when the block ends without an exception
        and rolls back otherwise.
        """


def _ignore(payload_type: type[BaseModel], /, **fields: Any) -> None:
    return None


class _Silent:
    """Nobody listens: no transaction of our own, no payload built."""

    def __enter__(self) -> Emit:
        return _ignore

    def __exit__(self, *exc: Any) -> None:
        return None


_SILENT = _Silent()


class Announcer:
    """Picks how a service announces the event of each mutation (see the module doc)."""

    def __init__(self, store: Any, bus: EventBus):
        self.store = store
        self.bus = bus

    def __call__(self, name: str) -> ContextManager[Emit]:
        outbox: EventOutbox | None = getattr(self.store, "event_outbox", None)
        if outbox is not None and outbox.wants(name):
            return self._through_outbox(outbox, name)
        if self.bus.wants(name):
            return self._on_bus(name)
        return _SILENT

    @contextlib.contextmanager
    def _on_bus(self, name: str) -> Iterator[Emit]:
        bus = self.bus

        def emit(payload_type: type[BaseModel], /, **fields: Any) -> None:
            bus.publish(name, payload_type(**fields))

        yield emit

    @contextlib.contextmanager
    def _through_outbox(self, outbox: EventOutbox, name: str) -> Iterator[Emit]:
        with outbox.transaction() as pending:

            def emit(payload_type: type[BaseModel], /, **fields: Any) -> None:
                pending.append(new_event(name, payload_type(**fields)))

            yield emit
            events = list(pending)
        # Committed: in-process subscribers hear of it too.
        for event in events:
            self.bus.publish_event(event)
