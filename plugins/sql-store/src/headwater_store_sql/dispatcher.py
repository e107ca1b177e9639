"""Delivering the outbox's events to the observers' lanes, off the request path.

Every server process runs one :class:`OutboxDispatcher` per database: a
router thread and a thread per lane. Whichever process holds a lease does the
work (see :mod:`headwater_store_sql.outbox`); the others check now and then
and take over when a holder stops renewing.

A lane's round: first the events waiting for another attempt (per run or
model, oldest first; one still backing off holds back the rest of its run),
then the next batch after the lane's position. Each event goes to
``lane.deliver``; a failure is recorded with the next attempt time computed by
the :class:`~headwater.events.delivery.RetryPolicy`, and later events of the
same run or model are held behind it, so each run's events arrive in commit
order. Then ``lane.flush`` and one transaction that saves the new position and
the retry rows. A crash before that save means the batch is delivered again
(at least once; the event id tells duplicates apart).
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Callable

from headwater.events.catalogue import Event
from headwater.events.delivery import GiveUp, Lane, RetryLater, RetryPolicy, delivered, delivery_failed
from headwater_store_sql.outbox import HELD, PARKED, RETRY, ROUTER, LeaseLost, RetryRow, SqlOutbox, now_ms

log = logging.getLogger("headwater.events")


@dataclass(frozen=True)
class DispatcherOptions:
    """Timings; the environment overrides them (tests shorten the lease)."""

    batch: int = 500
    poll_seconds: float = 0.1
    lease_seconds: float = 10.0
    lanes_refresh_seconds: float = 1.0
    retries_reload_seconds: float = 2.0
    prune_every_seconds: float = 60.0
    retention_seconds: float = 3600.0

    @classmethod
    def from_env(cls) -> "DispatcherOptions":
        env = os.environ

        def get(name: str, default: float) -> float:
            return float(env.get(f"HEADWATER_EVENTS_{name}", default))

        return cls(
            batch=int(get("BATCH", cls.batch)),
            poll_seconds=get("POLL_SECONDS", cls.poll_seconds),
            lease_seconds=get("LEASE_SECONDS", cls.lease_seconds),
            lanes_refresh_seconds=get("LANES_REFRESH_SECONDS", cls.lanes_refresh_seconds),
            retention_seconds=get("RETENTION_SECONDS", cls.retention_seconds),
        )

    @property
    def lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


class _LaneWorker:
    """Delivers one lane while this process holds its lease."""

    def __init__(self, dispatcher: "OutboxDispatcher", lane: Lane):
        self.d = dispatcher
        self.lane = lane
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.position: int | None = None
        self.retries: dict[int, RetryRow] | None = None
        self._retries_loaded = 0.0
        self._next_tick = 0.0
        self._idle_saved = 0.0
        self._renew_at = 0.0
        self.thread = threading.Thread(target=self._run, name=f"headwater-lane-{lane.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()

    def _run(self) -> None:
        while not self.stopped.is_set():
            busy = False
            try:
                busy = self._step()
            except Exception:
                log.exception("delivery to %s failed; trying again", self.lane.name)
                self.position = self.retries = None
            if not busy:
                self.wake.wait(self.d.options.poll_seconds)
                self.wake.clear()

    def _step(self) -> bool:
        d = self.d
        now = time.monotonic()
        if self.position is None or now >= self._renew_at:  # held leases are renewed at a third of their time
            position = d.outbox.acquire(self.lane.name, d.holder, d.options.lease_ms)
            if position is None:  # another process delivers this lane
                self.position = self.retries = None
                self.wake.wait(max(d.options.poll_seconds, d.options.lease_seconds / 10))
                return False
            self._renew_at = now + d.options.lease_seconds / 3
            if self.position is None:  # newly taken: start from what is saved
                self.position, self.retries = position, None
        if self.lane.tick is not None and now >= self._next_tick:
            self._next_tick = now + 1.0
            try:
                self.lane.tick()
            except Exception:
                log.exception("tick of %s failed", self.lane.name)
        try:
            return self._round()
        except LeaseLost:
            self.position = self.retries = None
            self._renew_at = 0.0
            return False

    # -- one round ------------------------------------------------------------------------------
    def _round(self) -> bool:
        d, lane = self.d, self.lane
        if lane.events is not None and not lane.events:
            # A lane for its tick only: keep its position at the end, so it never holds back pruning.
            if time.monotonic() - self._idle_saved > 10:
                top = d.outbox.top_position()
                d.outbox.save(lane.name, d.holder, top, d.options.lease_ms, {})
                self.position, self._idle_saved = top, time.monotonic()
            return False
        if self.retries is None or time.monotonic() - self._retries_loaded > d.options.retries_reload_seconds:
            self.retries = d.outbox.pending_retries(lane.name)
            self._retries_loaded = time.monotonic()
        now = now_ms()
        changes: dict[int, RetryRow | None] = {}
        blocked: set[str] = set()
        # Delivered this round, in order: (the row that waited for it, or a fresh one), flushed below.
        delivered_rows: list[RetryRow] = []

        def attempt(row: RetryRow, event: Event) -> bool:
            error = self._attempt(event)
            if error is None:
                changes[row.position] = None
                delivered_rows.append(row)
                return True
            failed = self._failed(row, row.attempts + 1, error)
            changes[row.position] = failed
            if failed.status != PARKED:
                blocked.add(row.partition_key)
            return False

        # 1. Events waiting for another attempt, run by run (or model by model), oldest first.
        waiting = sorted(self.retries.values(), key=lambda r: (r.partition_key, r.position))
        due = [r for r in waiting if r.status == HELD or r.next_attempt_at <= now]
        bodies = d.outbox.read_positions([r.position for r in due]) if due else {}
        for partition, rows in itertools.groupby(waiting, key=lambda r: r.partition_key):
            for row in rows:
                if row.status == RETRY and row.next_attempt_at > now:
                    blocked.add(partition)
                    break
                stored = bodies.get(row.position)
                if stored is None:  # no longer in the outbox: nothing left to deliver
                    changes[row.position] = None
                    continue
                if not attempt(row, d.event_at(stored.position, stored.body)) and partition in blocked:
                    break

        # 2. The next batch after the lane's position (when this process routes, it knows if there is one).
        known_top = d.known_top
        caught_up = known_top is not None and (self.position or 0) >= known_top
        batch = [] if caught_up else d.outbox.read(self.position or 0, d.options.batch)
        for stored in batch:
            if not lane.wants(stored.name):
                continue
            event = d.event_at(stored.position, stored.body)
            if not lane.accepts(event, stored.experiment_id) or (lane.since is not None and event.timestamp < lane.since):
                continue
            row = RetryRow(stored.position, stored.partition_key, RETRY, 0, 0)
            if row.partition_key in blocked:
                changes[row.position] = RetryRow(row.position, row.partition_key, HELD, 0, 0)
            else:
                attempt(row, event)

        new_position = batch[-1].position if batch else (self.position or 0)
        if not changes and new_position == self.position:
            return False
        attempted = len(delivered_rows) + sum(1 for r in changes.values() if r is not None and r.status != HELD)
        if attempted and lane.flush is not None:
            try:
                lane.flush()
            except Exception as exc:
                # What the receivers took is not kept: each of those events failed this attempt.
                log.warning("flush of %s failed: %s", lane.name, exc)
                for row in delivered_rows:
                    failed = self._failed(row, row.attempts + 1, exc)
                    changes[row.position] = failed
                delivered_rows = []
        d.outbox.save(lane.name, d.holder, new_position, d.options.lease_ms, changes)
        for position, changed in changes.items():
            if changed is None or changed.status == PARKED:
                self.retries.pop(position, None)
            else:
                self.retries[position] = changed
        self.position = new_position
        if delivered_rows:
            delivered.send(lane.name, count=len(delivered_rows))
        return len(batch) >= d.options.batch

    def _attempt(self, event: Event) -> BaseException | None:
        try:
            self.lane.deliver(event)
            return None
        except Exception as exc:
            return exc

    def _failed(self, row: RetryRow, attempts: int, error: BaseException) -> RetryRow:
        policy = self.d.policy
        parked = policy.gives_up(attempts, error)
        hint = error.after if isinstance(error, RetryLater) else None
        next_at = now_ms() + int(policy.delay(attempts, hint) * 1000)
        text = _error_text(error)
        if parked:
            log.error("parked event at position %d for %s after %d attempts: %s", row.position, self.lane.name,
                      attempts, text)
        delivery_failed.send(self.lane.name, event=row.position, error=text, parked=parked)
        return replace(row, status=PARKED if parked else RETRY, attempts=attempts, next_attempt_at=next_at,
                       last_error=text)


class OutboxDispatcher:
    """The router thread and the lane workers of one database in this process."""

    def __init__(
        self,
        outbox: SqlOutbox,
        lanes: Callable[[], list[Lane]],
        policy: RetryPolicy | None = None,
        options: DispatcherOptions | None = None,
        on_lanes: Callable[[list[Lane]], None] | None = None,
    ):
        self.outbox = outbox
        self._lanes = lanes
        self._on_lanes = on_lanes
        self.policy = policy or RetryPolicy.from_env()
        self.options = options or DispatcherOptions.from_env()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.workers: dict[str, _LaneWorker] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="headwater-outbox-router", daemon=True)
        self._last_prune = 0.0
        self._router_renew_at = 0.0
        #: The highest routed position, while this process routes (None: it does not).
        self.known_top: int | None = None
        self._parsed: dict[int, Event] = {}
        self._parsed_lock = threading.Lock()

    def event_at(self, position: int, body: str) -> Event:
        """The parsed event at ``position``, parsed once for all the lanes of this process."""
        with self._parsed_lock:
            event = self._parsed.get(position)
        if event is None:
            event = Event.from_json(body)
            with self._parsed_lock:
                if len(self._parsed) >= 20_000:
                    self._parsed.clear()
                self._parsed[position] = event
        return event

    def start(self) -> "OutboxDispatcher":
        self.refresh_lanes()
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        workers = list(self.workers.values())
        for worker in workers:
            worker.stop()
        self._thread.join(timeout)
        for worker in workers:
            worker.thread.join(timeout)
        try:
            self.outbox.release(self.holder)
        except Exception:
            log.exception("could not release the event delivery leases")

    def refresh_lanes(self) -> None:
        lanes = {lane.name: lane for lane in self._lanes()}
        if self._on_lanes is not None:
            self._on_lanes(list(lanes.values()))
        for name in list(self.workers):
            if name not in lanes or self.workers[name].lane.filters() != lanes[name].filters():
                worker = self.workers.pop(name)
                worker.stop()
                worker.thread.join(10)  # never two workers of one lane under one lease
            else:  # same lane; its callables may be new objects
                self.workers[name].lane = lanes[name]
        for name, lane in lanes.items():
            if name not in self.workers:
                worker = self.workers[name] = _LaneWorker(self, lane)
                worker.start()

    def _run(self) -> None:
        next_refresh = time.monotonic() + self.options.lanes_refresh_seconds
        while not self._stopped.is_set():
            try:
                if time.monotonic() >= next_refresh:
                    next_refresh = time.monotonic() + self.options.lanes_refresh_seconds
                    self.refresh_lanes()
                if self.workers and self._hold_router():
                    if self.outbox.route(self.options.batch * 4):
                        self.known_top = self.outbox.routed_top
                        for worker in list(self.workers.values()):
                            worker.wake.set()
                    elif self.known_top is None:
                        self.known_top = self.outbox.top_position()
                    self._prune()
                else:
                    self.known_top = None  # another process routes: lanes must look for themselves
            except Exception:
                log.exception("routing events failed; trying again")
            # Poll rather than wake on each commit: under load a round then routes many events at once.
            self._stopped.wait(self.options.poll_seconds)

    def _hold_router(self) -> bool:
        now = time.monotonic()
        if now < self._router_renew_at:
            return True
        if self.outbox.acquire(ROUTER, self.holder, self.options.lease_ms) is None:
            self._router_renew_at = 0.0
            return False
        self._router_renew_at = now + self.options.lease_seconds / 3
        return True

    def _prune(self) -> None:
        if time.monotonic() - self._last_prune < self.options.prune_every_seconds:
            return
        self._last_prune = time.monotonic()
        removed = self.outbox.prune(int(self.options.retention_seconds * 1000))
        if removed:
            log.debug("pruned %d delivered events", removed)
