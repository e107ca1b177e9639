"""The example observer: the hook, the receiver, and durable delivery through the SQL store's outbox."""

from __future__ import annotations

import csv
import time

from headwater.entities import RunStatus
from headwater.events import EventBus
from headwater.events.delivery import LaneSource
from headwater.plugins.manager import make_plugin_manager
from headwater.tracking.service import TrackingService

import headwater_run_journal


def test_no_observer_without_a_path(monkeypatch):
    monkeypatch.delenv("HEADWATER_RUN_JOURNAL", raising=False)
    assert list(headwater_run_journal.headwater_observers()) == []


def test_ended_runs_are_journaled_through_the_outbox(tmp_path, monkeypatch):
    from headwater_store_sql.store import SqlTrackingStore

    journal = tmp_path / "journal.csv"
    monkeypatch.setenv("HEADWATER_RUN_JOURNAL", str(journal))
    manager = make_plugin_manager(load_entrypoints=False, environ={})
    manager.register(headwater_run_journal, name="run_journal", distribution="headwater-run-journal", version="0")
    lanes = LaneSource.from_manager(manager)
    assert [lane.name for lane in lanes.lanes()] == ["run_journal.journal"]

    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'hw.db'}", str(tmp_path / "artifacts"))
    outbox = store.enable_event_outbox()
    dispatcher = outbox.dispatcher(lanes.lanes, outbox.wanted.update).start()
    try:
        service = TrackingService(store, EventBus())
        finished = service.create_run("0").info.run_id
        running = service.create_run("0").info.run_id
        service.update_run_info(finished, RunStatus.FINISHED, end_time=5)
        service.update_run_info(running, RunStatus.RUNNING)
        deadline = time.time() + 10
        while time.time() < deadline and not journal.exists():
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        store.close()
    [row] = list(csv.reader(journal.open()))
    assert row[1:4] == [finished, "FINISHED", "5"]
