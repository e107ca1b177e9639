"""Durable delivery with real server processes, observed through the audit log.

- SIGKILL after the commit, before the observer took the event: the restarted
  server delivers it.
- Two servers on one PostgreSQL database: every event reaches the observer
  once in normal operation, and none is lost when one of them is killed.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("headwater_audit")

from headwater_audit.chain import verify  # noqa: E402

FAST_RETRY = {"HEADWATER_EVENTS_RETRY_BASE_SECONDS": "0.2", "HEADWATER_EVENTS_RETRY_JITTER_SECONDS": "0.1",
              "HEADWATER_EVENTS_RETRY_CAP_SECONDS": "1"}


def records(log: Path) -> list[dict]:
    out = []
    for path in sorted(log.parent.glob(log.name + "*")):
        if path.suffix in (".head", ".lock", ".tmp"):
            continue
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def wait_for(predicate, timeout: float = 60.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_sigkill_between_commit_and_delivery_then_restart_delivers(start_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'hw.db'}"
    log = tmp_path / "audit" / "audit.jsonl"
    log.mkdir(parents=True)  # a directory where the file should be: every delivery attempt fails
    env = {"HEADWATER_AUDIT_LOG": str(log), **FAST_RETRY}
    server = start_server(db, env=env)
    experiment = server.call("POST", "experiments/create", {"name": "durable"})["experiment_id"]
    run = server.call("POST", "runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]
    server.call("POST", "runs/log-metric", {"run_id": run, "key": "loss", "value": 0.5, "timestamp": 1, "step": 0})
    time.sleep(1)  # the observer has failed at least once by now
    server.kill()
    log.rmdir()  # the observer works again
    restarted = start_server(db, env=env)
    got = wait_for(lambda: log.is_file() and len(records(log)) >= 3, timeout=30)
    assert got, restarted.log()
    events = [(r["event"], r["payload"].get("run_id")) for r in records(log)]
    assert events == [("create_experiment", None), ("create_run", run), ("log_metric", run)]
    assert verify(log).ok


@pytest.mark.slow
@pytest.mark.postgres
def test_two_servers_on_one_postgres_deliver_each_event_once_and_lose_none_when_one_dies(
        start_server, tmp_path, postgres_database_uri):
    log = tmp_path / "audit.jsonl"
    env = {"HEADWATER_AUDIT_LOG": str(log), **FAST_RETRY}
    servers = [start_server(postgres_database_uri, env=env), start_server(postgres_database_uri, env=env)]
    experiment = servers[0].call("POST", "experiments/create", {"name": f"two-{uuid.uuid4().hex[:6]}"})["experiment_id"]
    runs = [servers[i % 2].call("POST", "runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]
            for i in range(4)]
    logged: list[tuple[str, int]] = []
    lock = threading.Lock()

    def log_metrics(server, run: str, steps: range) -> None:
        for step in steps:
            response = server.post("runs/log-metric", {"run_id": run, "key": "m", "value": step, "timestamp": 1,
                                                       "step": step})
            if response.status_code == 200:
                with lock:
                    logged.append((run, step))

    # Normal operation: both servers take writes at once.
    threads = [threading.Thread(target=log_metrics, args=(servers[i % 2], run, range(0, 50)))
               for i, run in enumerate(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = len(logged)
    assert expected == 200

    def metric_records():
        return [r for r in records(log) if r["event"] == "log_metric" and r["payload"]["run_id"] in runs]

    got = wait_for(lambda: len(metric_records()) >= expected, timeout=60)
    assert got, "not every event was delivered"
    time.sleep(1)
    ids = Counter(r["event_id"] for r in metric_records())
    assert len(ids) == expected and max(ids.values()) == 1, "an event reached the observer twice"
    # Per run, in commit order.
    for run in runs:
        steps = [r["payload"]["step"] for r in metric_records() if r["payload"]["run_id"] == run]
        assert steps == sorted(steps)

    # One server dies (SIGKILL, maybe while it holds the delivery lease); the other goes on alone.
    done_before = len(logged)
    killer = threading.Timer(0.3, servers[0].kill)
    killer.start()
    log_metrics(servers[1], runs[0], range(100, 160))
    killer.join()
    added = len(logged) - done_before
    assert added == 60
    survivors = wait_for(lambda: {r["event_id"] for r in metric_records()} if len(
        {r["event_id"] for r in metric_records()}) >= expected + added else None, timeout=60)
    assert survivors and len(survivors) == expected + added, "an event was lost"
    assert verify(log).ok
