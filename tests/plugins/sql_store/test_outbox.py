"""The SQL store's event outbox on SQLite, PostgreSQL and MariaDB.

Events are written in the change's own transaction (both or neither), routed
to gap-free positions even when transactions commit out of order, delivered in
order per run with retries held behind a failure, parked after the last
attempt, replayed, and delivered once by several dispatchers sharing a database.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from headwater.entities import Metric, Param
from headwater.events import EventBus
from headwater.events.delivery import GiveUp, Lane, RetryLater, RetryPolicy, WantedEvents
from headwater.exceptions import HeadwaterError
from headwater.registry.service import RegistryService
from headwater.tracking.service import TrackingService

QUICK = RetryPolicy(max_attempts=3, base_seconds=0.05, cap_seconds=0.2, jitter_seconds=0.0)


@pytest.fixture
def bus():
    bus = EventBus()
    yield bus
    bus.close(1)


@pytest.fixture
def wanted():
    names = WantedEvents()
    names.names = None  # every event
    return names


@pytest.fixture
def service(store, bus, wanted):
    store.enable_event_outbox(wanted)
    return TrackingService(store, bus)


def outbox_rows(store) -> list[dict]:
    from headwater_store_sql.outbox_schema import event_outbox

    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.select(event_outbox).order_by(event_outbox.c.seq))]


def new_run(service) -> str:
    return service.create_run("0").info.run_id


def dispatcher(store, lanes, policy=QUICK):
    from headwater_store_sql.dispatcher import DispatcherOptions, OutboxDispatcher

    options = DispatcherOptions(poll_seconds=0.02, lease_seconds=2, lanes_refresh_seconds=0.2)
    return OutboxDispatcher(store.event_outbox, lambda: lanes, policy=policy, options=options).start()


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)
    return predicate()


def test_event_rows_are_written_in_the_changes_transaction(service, store):
    run = new_run(service)
    service.log_metric(run, Metric(key="m", value=1.0, timestamp=5, step=0))
    rows = outbox_rows(store)
    assert [r["name"] for r in rows] == ["create_run", "log_metric"]
    assert rows[1]["run_id"] == run and rows[1]["partition_key"] == f"run:{run}" and rows[1]["position"] is None
    # A refused change writes no event.
    store.log_param(run, Param(key="p", value="a"))
    with pytest.raises(HeadwaterError):
        service.log_param(run, Param(key="p", value="b"))
    with pytest.raises(HeadwaterError):
        service.log_metric("0" * 32, Metric(key="m", value=1.0, timestamp=5, step=0))
    assert len(outbox_rows(store)) == 2


def test_a_failed_event_write_undoes_the_change(service, store, monkeypatch):
    run = new_run(service)

    def broken(conn, rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.event_outbox._insert, "run", broken)
    with pytest.raises(RuntimeError):
        service.log_param(run, Param(key="p", value="v"))
    assert store.get_run(run).data.params == {}
    monkeypatch.undo()
    service.log_param(run, Param(key="p", value="v"))
    assert store.get_run(run).data.params == {"p": "v"}


def test_nothing_is_written_when_no_lane_wants_the_event(store, bus):
    store.enable_event_outbox(WantedEvents())
    service = TrackingService(store, bus)
    service.log_metric(new_run(service), Metric(key="m", value=1.0, timestamp=5, step=0))
    assert outbox_rows(store) == []


def test_registry_events_join_the_registry_stores_transaction(store, database_uri, bus, wanted):
    from headwater_store_sql.registry_store import SqlRegistryStore

    registry = SqlRegistryStore(database_uri)
    try:
        registry.enable_event_outbox(wanted)
        service = RegistryService(registry, bus=bus, check_sources=False)
        service.create_registered_model("outboxed")
        with pytest.raises(HeadwaterError):
            service.create_registered_model("outboxed")
        rows = [r for r in outbox_rows(store) if r["name"] == "create_registered_model"]
        assert [(r["partition_key"]) for r in rows] == ["model:outboxed"]
    finally:
        registry.close()


def test_delivery_in_order_with_retries_held_per_run_and_parking(service, store):
    runs = [new_run(service), new_run(service)]
    got: list[tuple[str, int]] = []
    failures = {"n": 0}

    def deliver(event):
        if event.name != "log_metric":
            return
        if event.run_id == runs[0] and event.payload.step == 2 and failures["n"] < 2:
            failures["n"] += 1
            raise RetryLater("busy", after=0.05)
        if event.payload.step == 4 and event.run_id == runs[1]:
            raise GiveUp("never")
        got.append((event.run_id, event.payload.step))

    lanes = [Lane(name="test.ordered", deliver=deliver)]
    d = dispatcher(store, lanes)
    try:
        for step in range(6):
            for run in runs:
                service.log_metric(run, Metric(key="m", value=step, timestamp=1, step=step))
        assert wait_for(lambda: len(got) == 11), got
    finally:
        d.stop()
    assert [s for r, s in got if r == runs[0]] == [0, 1, 2, 3, 4, 5]  # 3..5 waited behind the retried 2
    assert [s for r, s in got if r == runs[1]] == [0, 1, 2, 3, 5]  # 4 parked, 5 went on
    [parked] = store.event_outbox.failed()
    assert parked["lane"] == "test.ordered" and parked["name"] == "log_metric" and "GiveUp: never" in parked["last_error"]
    status = {lane["lane"]: lane for lane in store.event_outbox.status()["lanes"]}
    assert status["test.ordered"]["parked"] == 1 and status["test.ordered"]["lag"] == 0


def test_parked_events_are_replayed(service, store):
    attempts = []

    def deliver(event):
        attempts.append(event.id)
        if len(attempts) <= QUICK.max_attempts:
            raise RuntimeError("receiver down")

    run = new_run(service)
    d = dispatcher(store, [Lane(name="test.replay", deliver=deliver, events=frozenset({"set_tag"}))])
    try:
        from headwater.entities import RunTag

        service.set_tag(run, RunTag(key="k", value="v"))
        assert wait_for(lambda: len(store.event_outbox.failed("test.replay")) == 1)
        assert len(attempts) == QUICK.max_attempts
        event_id = store.event_outbox.failed("test.replay")[0]["event_id"]
        assert store.event_outbox.replay(event_ids=[event_id]) == 1
        assert wait_for(lambda: len(attempts) == QUICK.max_attempts + 1, timeout=10)
        assert wait_for(lambda: store.event_outbox.failed("test.replay") == [])
    finally:
        d.stop()
    assert set(attempts) == {event_id}


def test_a_flush_failure_delivers_the_batch_again(service, store):
    seen, flushes = [], {"n": 0}

    def flush():
        flushes["n"] += 1
        if flushes["n"] == 1:
            raise OSError("fsync failed")

    run = new_run(service)
    d = dispatcher(store, [Lane(name="test.flush", deliver=lambda e: seen.append(e.id), flush=flush)],
                   policy=RetryPolicy(base_seconds=0.05, jitter_seconds=0))
    try:
        service.log_metric(run, Metric(key="m", value=1.0, timestamp=1, step=0))
        assert wait_for(lambda: flushes["n"] >= 2)
        lane = lambda: store.event_outbox.status()["lanes"][0]  # noqa: E731
        assert wait_for(lambda: lane()["lag"] == 0 and lane()["retry"] == 0 and lane()["held"] == 0)
    finally:
        d.stop()
    assert len(seen) >= 2 * 2 - 1 and len(set(seen)) == 2  # create_run + log_metric, first batch twice


@pytest.mark.parametrize("database_uri", [pytest.param("postgres", marks=pytest.mark.postgres, id="postgresql")],
                         indirect=True)
def test_positions_have_no_gap_that_a_late_commit_could_fill(service, store):
    """A transaction with a smaller seq that commits after a larger one is still delivered."""
    outbox = store.event_outbox
    run = new_run(service)
    outbox.route()
    late_started, early_done = threading.Event(), threading.Event()

    def late_writer():
        with service._announce("log_metric") as emit:
            store.log_metric(run, Metric(key="late", value=1.0, timestamp=1, step=0))
            from headwater.events import catalogue as ev

            emit(ev.MetricLogged, run_id=run, key="late", value=1.0, timestamp=1, step=0)
            late_started.set()
            early_done.wait(10)  # still open: its outbox row has the smaller seq but is not committed

    thread = threading.Thread(target=late_writer)
    thread.start()
    assert late_started.wait(10)
    service.log_metric(run, Metric(key="early", value=1.0, timestamp=1, step=0))
    assert outbox.route() == 1
    first = outbox.read(0, 100)
    early_done.set()
    thread.join(10)
    assert outbox.route() == 1
    after = outbox.read(first[-1].position, 100)
    assert [r.name for r in after] == ["log_metric"] and '"key":"late"' in after[0].body
    seqs = {r["event_id"]: r["seq"] for r in outbox_rows(store)}
    assert len(seqs) == 3


@pytest.mark.parametrize("database_uri", [pytest.param("postgres", marks=pytest.mark.postgres, id="postgresql")],
                         indirect=True)
def test_two_dispatchers_on_one_database_deliver_each_event_once(service, store, database_uri, wanted):
    from headwater_store_sql.store import SqlTrackingStore

    other_store = SqlTrackingStore(database_uri)
    other_store.enable_event_outbox(wanted)
    delivered: list[str] = []
    lock = threading.Lock()

    def deliver(event):
        with lock:
            delivered.append(event.id)

    lanes = [Lane(name="test.once", deliver=deliver)]
    first, second = dispatcher(store, lanes), dispatcher(other_store, lanes)
    try:
        run = new_run(service)
        other = TrackingService(other_store, EventBus())
        for step in range(100):
            (service if step % 2 else other).log_metric(run, Metric(key="m", value=step, timestamp=1, step=step))
        assert wait_for(lambda: len(delivered) >= 101, timeout=20)
        time.sleep(0.5)
    finally:
        first.stop()
        second.stop()
        other_store.close()
    assert len(delivered) == 101 and len(set(delivered)) == 101
