"""The SQL store's event outbox: events committed with the change they announce.

Writing. :meth:`SqlOutbox.transaction` (what :mod:`headwater.events.outbox`
calls around a service's store call) opens one transaction and makes it the
*ambient* transaction of this context: the store's ``_writer`` is wrapped by
an :class:`AmbientWriter`, whose ``begin()`` joins it instead of starting one
of its own. The service then appends its events; they are inserted in the
same transaction, which commits once. If the store raises, the whole
transaction rolls back (and a store method that retries a conflict starts a
fresh one), so there is never an event without its change or a change
without its event.

Ordering. ``seq`` (auto-increment) is assigned at insert, but transactions
commit in another order, so a reader that followed ``seq`` could pass a row
that commits later with a smaller one and never see it. Instead one router
at a time (holding a lease) gives committed rows a ``position``: every new
position is greater than all positions given before, and the router's
transaction commits them at once. A lane that has delivered through position
P therefore never sees a new row below P: positions have no gaps to fill.

Leases. A row of ``event_lanes`` per lane (and one for the router) names the
process that holds it until ``lease_until``; taking or renewing it is one
conditional UPDATE, so it works alike on SQLite, PostgreSQL and MySQL. One
holder per lane means each event is delivered to each lane once, in order,
however many server processes share the database; a holder that dies
(SIGKILL) loses its lease after its time-to-live and another process, or the
restarted one, goes on from the last saved position (at least once).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from headwater.events.catalogue import Event
from headwater.events.delivery import WantedEvents
from headwater_store_sql import dialects
from headwater_store_sql.engine import sqlite_file
from headwater_store_sql.outbox_schema import event_lanes, event_outbox, event_retries
from headwater_store_sql.schema import runs

ROUTER = "(router)"
RETRY, HELD, PARKED = "retry", "held", "parked"

_ambient: contextvars.ContextVar["_Transaction | None"] = contextvars.ContextVar("headwater_outbox", default=None)


def now_ms() -> int:
    return int(time.time() * 1000)


class LeaseLost(Exception):
    """Another process holds the lane now; what this one did since its last save is not recorded."""


class _Transaction:
    """The ambient transaction of one ``SqlOutbox.transaction()`` block, opened on first use."""

    def __init__(self, outbox: "SqlOutbox"):
        self.outbox = outbox
        self.conn: Connection | None = None
        self._txn: Any = None

    def connection(self) -> Connection:
        if self.conn is None:
            self.conn = self.outbox.writer.connect()
            self._txn = self.conn.begin()
        return self.conn

    def abandon(self) -> None:
        """Roll back all of it; a later write in the block (a store's retry) starts afresh."""
        if self.conn is not None:
            try:
                self._txn.rollback()
            finally:
                self.conn.close()
                self.conn = None

    def commit(self) -> None:
        if self.conn is not None:
            try:
                self._txn.commit()
            finally:
                self.conn.close()
                self.conn = None

    @contextlib.contextmanager
    def joined(self) -> Iterator[Connection]:
        conn = self.connection()
        try:
            yield conn
        except BaseException:
            self.abandon()
            raise


class AmbientWriter:
    """A store's write engine that joins its outbox's ambient transaction when one is open."""

    def __init__(self, writer: Engine, outbox: "SqlOutbox"):
        self._writer = writer
        self._outbox = outbox

    def begin(self) -> Any:
        scope = _ambient.get()
        if scope is None or scope.outbox is not self._outbox:
            return self._writer.begin()
        return scope.joined()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


@dataclass(frozen=True)
class RetryRow:
    position: int
    partition_key: str
    status: str
    attempts: int
    next_attempt_at: int
    last_error: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    position: int
    name: str
    partition_key: str
    experiment_id: str | None
    body: str


class SqlOutbox:
    """Writes events in the store's transactions; reads and records delivery for the dispatcher."""

    def __init__(self, engine: Engine, writer: Engine, wanted: WantedEvents | None = None):
        self.engine = engine
        self.writer = writer
        self.dialect = engine.dialect.name
        self.wanted = wanted or WantedEvents()
        #: The highest position the last routing round gave (see OutboxDispatcher.known_top).
        self.routed_top = 0
        from headwater_store_sql.store import _DriverStatement

        columns = ("position", "event_id", "name", "partition_key", "run_id", "created_at", "body")
        insert = sa.insert(event_outbox).values({c: sa.bindparam(c) for c in columns})
        self._insert = _DriverStatement(insert, engine.dialect)
        self._upsert_retry = dialects.upsert(
            self.dialect, event_retries, ("partition_key", "status", "attempts", "next_attempt_at", "last_error",
                                          "updated_at"))
        self._insert_lane = dialects.insert_ignore(self.dialect, event_lanes)

    @property
    def key(self) -> str:
        """Which database this is: one dispatcher per database, whatever number of stores use it."""
        return self.engine.url.render_as_string(hide_password=False)

    # -- writing (the EventOutbox protocol of headwater.events.outbox) ------------------------------
    def wants(self, name: str) -> bool:
        return self.wanted(name)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[list[Event]]:
        scope = _Transaction(self)
        token = _ambient.set(scope)
        pending: list[Event] = []
        try:
            yield pending
            if pending:
                self._insert.run(scope.connection(), [self._row(e) for e in pending])
            scope.commit()
        except BaseException:
            scope.abandon()
            raise
        finally:
            _ambient.reset(token)

    @staticmethod
    def _row(event: Event) -> dict[str, Any]:
        return {
            "position": None,
            "event_id": event.id,
            "name": event.name,
            "partition_key": event.partition_key[:300],
            "run_id": event.run_id,
            "created_at": event.timestamp,
            "body": event.to_json(),
        }

    def dispatcher(self, lanes: Any, on_lanes: Any = None) -> Any:
        """An (unstarted) :class:`~headwater_store_sql.dispatcher.OutboxDispatcher` for this database."""
        from headwater_store_sql.dispatcher import OutboxDispatcher

        return OutboxDispatcher(self, lanes, on_lanes=on_lanes)

    # -- leases ----------------------------------------------------------------------------------
    def acquire(self, name: str, holder: str, ttl_ms: int) -> int | None:
        """Take or renew the lease on ``name``; the lane's saved position if held, else None."""
        now = now_ms()
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(event_lanes.c.holder, event_lanes.c.lease_until, event_lanes.c.position)
                .where(event_lanes.c.name == name)
            ).first()
        if row is None:
            with self.writer.begin() as conn:
                conn.execute(self._insert_lane, {"name": name, "position": 0, "holder": None, "lease_until": 0,
                                                 "updated_at": now})
        elif row.holder == holder and row.lease_until - now > ttl_ms // 2:
            return row.position
        elif row.holder != holder and row.lease_until >= now:
            return None
        with self.writer.begin() as conn:
            taken = conn.execute(
                sa.update(event_lanes)
                .where(event_lanes.c.name == name,
                       sa.or_(event_lanes.c.holder == holder, event_lanes.c.lease_until < now))
                .values(holder=holder, lease_until=now + ttl_ms, updated_at=now)
            ).rowcount
            if not taken:
                return None
            return conn.execute(sa.select(event_lanes.c.position).where(event_lanes.c.name == name)).scalar_one()

    def release(self, holder: str) -> None:
        """Give up every lease of ``holder`` (a clean shutdown: others take over at once)."""
        with self.writer.begin() as conn:
            conn.execute(sa.update(event_lanes).where(event_lanes.c.holder == holder).values(lease_until=0))

    # -- routing ---------------------------------------------------------------------------------------
    def route(self, limit: int = 1000) -> int:
        """Give committed, unrouted rows their positions (the router lease holder only)."""
        o = event_outbox.c
        with self.engine.connect() as conn:
            if conn.execute(sa.select(o.seq).where(o.position.is_(None)).limit(1)).first() is None:
                return 0
        with self.writer.begin() as conn:
            seqs = conn.execute(
                sa.select(o.seq).where(o.position.is_(None)).order_by(o.seq).limit(limit)
            ).scalars().all()
            if not seqs:
                return 0
            top = conn.execute(sa.select(sa.func.max(o.position))).scalar() or 0
            low, high = seqs[0], seqs[-1]
            # Rows between low and high that commit after this SELECT simply wait for the next round.
            routed = conn.execute(
                sa.update(event_outbox)
                .where(o.position.is_(None), o.seq >= low, o.seq <= high)
                .values(position=o.seq + (top + 1 - low))
            ).rowcount
            self.routed_top = high + top + 1 - low
            return routed

    # -- reading for a lane ----------------------------------------------------------------------------
    def read(self, after: int, limit: int) -> list[OutboxRow]:
        """Routed events after ``after``, in position order, with the experiment of each run event."""
        o = event_outbox.c
        query = (
            sa.select(o.position, o.name, o.partition_key, runs.c.experiment_id, o.body)
            .select_from(event_outbox.outerjoin(runs, runs.c.run_id == o.run_id))
            .where(o.position > after)
            .order_by(o.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                OutboxRow(r.position, r.name, r.partition_key,
                          None if r.experiment_id is None else str(r.experiment_id), r.body)
                for r in conn.execute(query)
            ]

    def top_position(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(event_outbox.c.position))).scalar() or 0

    def read_positions(self, positions: list[int]) -> dict[int, OutboxRow]:
        o = event_outbox.c
        if not positions:
            return {}
        query = (
            sa.select(o.position, o.name, o.partition_key, runs.c.experiment_id, o.body)
            .select_from(event_outbox.outerjoin(runs, runs.c.run_id == o.run_id))
            .where(o.position.in_(positions))
        )
        with self.engine.connect() as conn:
            return {
                r.position: OutboxRow(r.position, r.name, r.partition_key,
                                      None if r.experiment_id is None else str(r.experiment_id), r.body)
                for r in conn.execute(query)
            }

    def pending_retries(self, lane: str) -> dict[int, RetryRow]:
        """The lane's events waiting for another attempt or held behind one (not the parked)."""
        r = event_retries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.position, r.partition_key, r.status, r.attempts, r.next_attempt_at, r.last_error)
                .where(r.lane == lane, r.status.in_((RETRY, HELD)))
            )
            return {row.position: RetryRow(*row) for row in rows}

    def save(self, lane: str, holder: str, position: int, ttl_ms: int,
             changes: dict[int, RetryRow | None]) -> None:
        """Record a delivery round in one transaction: the new position and the retry rows."""
        now = now_ms()
        with self.writer.begin() as conn:
            held = conn.execute(
                sa.update(event_lanes)
                .where(event_lanes.c.name == lane, event_lanes.c.holder == holder)
                .values(position=position, lease_until=now + ttl_ms, updated_at=now)
            ).rowcount
            if not held:
                raise LeaseLost(lane)
            done = [p for p, row in changes.items() if row is None]
            if done:
                conn.execute(sa.delete(event_retries).where(event_retries.c.lane == lane,
                                                            event_retries.c.position.in_(done)))
            rows = [{"lane": lane, "updated_at": now, **row.__dict__} for row in changes.values() if row is not None]
            if rows:
                conn.execute(self._upsert_retry, rows)

    # -- housekeeping and administration -------------------------------------------------------------
    def prune(self, retention_ms: int, active_within_ms: int = 600_000) -> int:
        """Delete events every active lane has passed, older than the retention, with no retry row."""
        now = now_ms()
        o = event_outbox.c
        with self.engine.connect() as conn:
            floor = conn.execute(
                sa.select(sa.func.min(event_lanes.c.position))
                .where(event_lanes.c.name != ROUTER, event_lanes.c.updated_at >= now - active_within_ms)
            ).scalar()
        if floor is None:
            return 0
        with self.writer.begin() as conn:
            return conn.execute(
                sa.delete(event_outbox).where(
                    o.position <= floor,
                    o.created_at < now - retention_ms,
                    ~o.position.in_(sa.select(event_retries.c.position)),
                )
            ).rowcount

    def failed(self, lane: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Parked deliveries, oldest first: lane, event id and name, attempts, the last error."""
        r, o = event_retries.c, event_outbox.c
        query = (
            sa.select(r.lane, o.event_id, o.name, o.position, o.created_at, r.attempts, r.last_error, r.updated_at)
            .select_from(event_retries.join(event_outbox, o.position == r.position))
            .where(r.status == PARKED)
            .order_by(r.position)
            .limit(limit)
        )
        if lane:
            query = query.where(r.lane == lane)
        with self.engine.connect() as conn:
            return [{str(k): v for k, v in row._asdict().items()} for row in conn.execute(query)]

    def replay(self, lane: str | None = None, event_ids: list[str] | None = None) -> int:
        """Make parked deliveries due again (all, one lane's, or those of some events)."""
        r, o = event_retries.c, event_outbox.c
        conditions = [r.status == PARKED]
        if lane:
            conditions.append(r.lane == lane)
        if event_ids:
            conditions.append(r.position.in_(sa.select(o.position).where(o.event_id.in_(event_ids))))
        with self.writer.begin() as conn:
            return conn.execute(
                sa.update(event_retries).where(*conditions)
                .values(status=RETRY, attempts=0, next_attempt_at=0, updated_at=now_ms())
            ).rowcount

    def status(self) -> dict[str, Any]:
        """Outbox depth and each lane's position, lag, holder and retry counts."""
        o, lanes, r = event_outbox.c, event_lanes.c, event_retries.c
        now = now_ms()
        with self.engine.connect() as conn:
            unrouted = conn.execute(sa.select(sa.func.count()).where(o.position.is_(None))).scalar() or 0
            top = conn.execute(sa.select(sa.func.max(o.position))).scalar() or 0
            counts: dict[str, dict[str, int]] = {}
            for row in conn.execute(sa.select(r.lane, r.status, sa.func.count()).group_by(r.lane, r.status)):
                counts.setdefault(row[0], {})[row[1]] = row[2]
            out = []
            for row in conn.execute(sa.select(event_lanes).where(lanes.name != ROUTER).order_by(lanes.name)):
                lag = conn.execute(
                    sa.select(sa.func.count()).where(o.position > row.position)
                ).scalar() or 0
                out.append({
                    "lane": row.name,
                    "position": row.position,
                    "lag": lag,
                    "holder": row.holder if row.lease_until >= now else None,
                    **{k: counts.get(row.name, {}).get(k, 0) for k in (RETRY, HELD, PARKED)},
                })
        return {"unrouted": unrouted, "position": top, "lanes": out}


def enable_outbox(store: Any, wanted: WantedEvents | None = None) -> SqlOutbox | None:
    """Give a SQL store (tracking or registry) an event outbox; None for in-memory SQLite.

    An in-memory database lives and dies with the process: nothing there to make durable.
    """
    existing = getattr(store, "event_outbox", None)
    if existing is not None:
        if wanted is not None:
            existing.wanted = wanted
        return existing
    engine = store.engine
    if engine.dialect.name == "sqlite" and sqlite_file(engine.url) is None:
        return None
    writer = store._writer
    outbox = SqlOutbox(engine, writer, wanted)
    store._writer = AmbientWriter(writer, outbox)
    store.event_outbox = outbox
    return outbox

