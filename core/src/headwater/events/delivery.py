"""Durable delivery lanes: what the server's outbox dispatcher delivers to, and how it retries.

A *lane* is one ordered stream of events to one destination, with its own
position in the outbox, its own retries and its own failures. Each observer
plugin's receivers form one lane (named ``<plugin>.<observer>``); an observer
may add a lane per *subscription* (a webhook, say: ``<plugin>.<observer>:<key>``)
so that one slow receiver never holds up another.

A lane's ``deliver(event)`` returning means delivered. Raising means "try
again later", with exponential backoff and jitter; :class:`RetryLater` names
the earliest time (a ``Retry-After``), :class:`GiveUp` parks the event at once.
After :attr:`RetryPolicy.max_attempts` the event is parked with the last
error: ``headwater events failed`` lists it and ``headwater events replay``
sends it again.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from blinker import Namespace

from headwater.events.catalogue import Event

log = logging.getLogger("headwater.events")

_signals = Namespace()
#: Sent by the dispatcher after a failed attempt: ``(lane_name, event=..., error=..., parked=bool)``.
delivery_failed = _signals.signal("delivery-failed")
#: Sent by the dispatcher after a batch was delivered: ``(lane_name, count=int)``.
delivered = _signals.signal("delivered")


class RetryLater(Exception):
    """Deliver again, not sooner than ``after`` seconds from now (e.g. a ``Retry-After``)."""

    def __init__(self, message: str, after: float | None = None):
        super().__init__(message)
        self.after = after


class GiveUp(Exception):
    """This event can never be delivered as it is (a refused address, a 400): park it now."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, computed into a next-attempt time (no sleeping)."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    jitter_seconds: float = 1.0
    #: A Retry-After longer than this is cut to it.
    max_hint_seconds: float = 3600.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "RetryPolicy":
        env = os.environ if environ is None else environ
        return cls(
            max_attempts=int(env.get("HEADWATER_EVENTS_MAX_ATTEMPTS", cls.max_attempts)),
            base_seconds=float(env.get("HEADWATER_EVENTS_RETRY_BASE_SECONDS", cls.base_seconds)),
            cap_seconds=float(env.get("HEADWATER_EVENTS_RETRY_CAP_SECONDS", cls.cap_seconds)),
            jitter_seconds=float(env.get("HEADWATER_EVENTS_RETRY_JITTER_SECONDS", cls.jitter_seconds)),
        )

    def delay(self, attempts: int, hint: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        backoff = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        backoff += random.uniform(0, self.jitter_seconds)
        if hint is not None:
            backoff = max(backoff, min(float(hint), self.max_hint_seconds))
        return backoff

    def gives_up(self, attempts: int, error: BaseException) -> bool:
        return isinstance(error, GiveUp) or attempts >= self.max_attempts


@dataclass(frozen=True)
class Lane:
    """One destination the dispatcher delivers to, in commit order per run or model.

    ``events`` is the set of event names it takes (None: all); ``experiment_ids``
    and ``model_names``, when set, keep only events of those experiments or
    registered models. ``flush`` runs after each delivered batch (fsync a file,
    wait for broker acks); if it raises, the whole batch is delivered again.
    ``tick`` runs about once a second in the one process that holds the lane.
    """

    name: str
    deliver: Callable[[Event], None]
    events: frozenset[str] | None = None
    experiment_ids: frozenset[str] | None = None
    model_names: frozenset[str] | None = None
    flush: Callable[[], None] | None = None
    tick: Callable[[], None] | None = None
    #: Events older than this (ms since the epoch) are skipped: a new webhook gets no history.
    since: int | None = None

    def filters(self) -> tuple:
        """What decides which events the lane takes (two lanes alike in this share a position)."""
        return (self.events, self.experiment_ids, self.model_names, self.since)

    def wants(self, name: str) -> bool:
        return self.events is None or name in self.events

    def accepts(self, event: Event, experiment_id: str | None) -> bool:
        """Whether this lane takes ``event``; ``experiment_id`` is the experiment of its run, if any."""
        if not self.wants(event.name):
            return False
        if self.experiment_ids is not None and (experiment_id or event.experiment_id) not in self.experiment_ids:
            return False
        if self.model_names is not None and event.model_name not in self.model_names:
            return False
        return True


class WantedEvents:
    """The event names some lane takes (None: all): the outbox writes only those.

    Replaced whole whenever the lanes change, so reading it needs no lock.
    """

    def __init__(self) -> None:
        self.names: frozenset[str] | None = frozenset()

    def __call__(self, name: str) -> bool:
        names = self.names
        return names is None or name in names

    def update(self, lanes: Iterable[Lane]) -> None:
        names: set[str] = set()
        for lane in lanes:
            if lane.events is None:
                self.names = None
                return
            names |= lane.events
        self.names = frozenset(names)


@dataclass(frozen=True)
class Subscription:
    """A lane an observer adds at run time (one per webhook, ...); see :class:`Lane` for the fields."""

    key: str
    deliver: Callable[[Event], None]
    events: frozenset[str] | None = None
    experiment_ids: frozenset[str] | None = None
    model_names: frozenset[str] | None = None
    flush: Callable[[], None] | None = None
    since: int | None = None


def _ignore(event: Event) -> None:
    return None


def _receivers_deliver(label: str, receivers: dict[str, Callable[..., Any]]) -> Callable[[Event], None]:
    def deliver(event: Event) -> None:
        for key in (event.name, "*"):
            receiver = receivers.get(key)
            if receiver is not None:
                receiver(label, event=event)

    return deliver


@dataclass
class LaneSource:
    """The lanes of a plugin manager's observers: static receivers plus current subscriptions."""

    static: list[Lane] = field(default_factory=list)
    dynamic: list[tuple[str, Callable[[], Iterable[Subscription]]]] = field(default_factory=list)

    @classmethod
    def from_manager(cls, manager: Any) -> "LaneSource":
        source = cls()
        for observer, record in manager.observers():
            name = f"{record.name}.{observer.name}"
            if observer.receivers:
                names = None if "*" in observer.receivers else frozenset(observer.receivers)
                source.static.append(Lane(
                    name=name,
                    deliver=_receivers_deliver(name, dict(observer.receivers)),
                    events=names,
                    flush=getattr(observer, "flush", None),
                    tick=getattr(observer, "tick", None),
                ))
            elif getattr(observer, "tick", None) is not None:
                # No receivers but periodic work: a lane that takes no events, for its tick.
                source.static.append(Lane(name=name, deliver=_ignore, events=frozenset(), tick=observer.tick))
            subscriptions = getattr(observer, "subscriptions", None)
            if subscriptions is not None:
                source.dynamic.append((name, subscriptions))
        return source

    def lanes(self) -> list[Lane]:
        """The lanes now; subscriptions are asked each time (they change while the server runs)."""
        out = list(self.static)
        for prefix, subscriptions in self.dynamic:
            try:
                current = list(subscriptions())
            except Exception:
                log.exception("observer %s could not list its subscriptions", prefix)
                continue
            for sub in current:
                out.append(Lane(
                    name=f"{prefix}:{sub.key}",
                    deliver=sub.deliver,
                    events=sub.events,
                    experiment_ids=sub.experiment_ids,
                    model_names=sub.model_names,
                    flush=sub.flush,
                    since=sub.since,
                ))
        return out
