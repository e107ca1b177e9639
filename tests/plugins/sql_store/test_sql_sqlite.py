"""SQLite specifics: connection pragmas and several processes writing one file."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from headwater.entities import Metric, RunTag
from headwater_store_sql.store import SqlTrackingStore

WORKER = str(Path(__file__).with_name("sql_worker.py"))


@pytest.fixture
def sqlite_store(tmp_path):
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'tracking.db'}", str(tmp_path / "artifacts"))
    yield store
    store.close()


def test_connection_pragmas(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == 30000
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert conn.exec_driver_sql("SELECT 'ABC' LIKE 'abc'").scalar() == 0


def test_write_transactions_take_the_lock_up_front(sqlite_store, tmp_path):
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(sqlite_store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    run_id = sqlite_store.create_run("0").info.run_id
    statements.clear()
    sqlite_store.log_metric(run_id, Metric(key="m", value=1.0, timestamp=1, step=0))
    assert statements[0] == "BEGIN IMMEDIATE"
    statements.clear()
    sqlite_store.get_run(run_id)
    assert statements[0] == "BEGIN"


def test_threads_with_their_own_stores_on_one_file(tmp_path):
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    first = SqlTrackingStore(uri)
    run_id = first.create_run("0").info.run_id

    def work(worker: int) -> None:
        store = SqlTrackingStore(uri)
        for i in range(30):
            step = worker * 30 + i
            store.log_metric(run_id, Metric(key="m", value=float(step), timestamp=step, step=step))
            store.set_tag(run_id, RunTag(key=f"t{worker}", value=str(i)))
        store.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert [m.step for m in first.get_metric_history(run_id, "m")] == list(range(120))
    assert {k: v for k, v in first.get_run(run_id).data.tags.items() if k.startswith("t")} == {
        f"t{w}": "29" for w in range(4)
    }
    first.close()


@pytest.mark.slow
def test_processes_writing_one_file_lose_nothing(tmp_path):
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    store = SqlTrackingStore(uri)
    run_id = store.create_run("0").info.run_id
    workers, count = 4, 40
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "write", uri, run_id, str(w), str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, errors

    run = store.get_run(run_id)
    assert [m.step for m in store.get_metric_history(run_id, "m")] == list(range(workers * count))
    assert run.data.metrics["m"] == workers * count - 1
    for w in range(workers):
        assert len(store.get_metric_history(run_id, f"batch{w}").items) == count
        assert all(run.data.params[f"p{w}-{i}"] == str(i) for i in range(count))
        assert all(run.data.tags[f"t{w}-{i}"] == str(i) for i in range(count))
    assert run.data.params["shared"] == "same"
    assert len(run.data.params) == workers * count + 1
    store.close()
