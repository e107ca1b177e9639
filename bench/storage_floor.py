"""The storage floor: raw sqlite3 inserts of metric rows into Headwater's own metrics table.

The table is created from the SQL store's schema (same primary key, same
clustering), the connection set up as the store sets it (WAL, synchronous
NORMAL); then rows go in with ``executemany``, one transaction per batch of
1,000 and one per single row. No server, no ORM, no validation: no tracking
server on this disk can write metric points faster.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from bench import dataset

INSERT = "INSERT INTO metrics (run_id, key, timestamp, step, value, is_nan) VALUES (?, ?, ?, ?, ?, ?)"


def _create(path: str) -> None:
    import sqlalchemy as sa
    from headwater_store_sql.schema import metrics

    engine = sa.create_engine(f"sqlite:///{path}")
    metrics.create(engine)  # the table alone: the floor skips the run check and its foreign key
    engine.dispose()


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def measure(folder: str, batches: int, singles: int) -> dict[str, Any]:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "floor.db")
    _create(path)
    conn = _connect(path)
    run_id = "f" * 32
    try:
        batch_times = []
        for b in range(batches):
            rows = [(run_id, f"m{b % 10}", t, s, v, 0) for _, v, t, s in dataset.fresh_points("x", 1000, b * 1000)]
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT, rows)
            conn.execute("COMMIT")
            batch_times.append(time.perf_counter() - start)
        single_times = []
        for _, v, t, s in dataset.fresh_points("single", singles, 0):
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT, (run_id, "single", t, s, v, 0))
            conn.execute("COMMIT")
            single_times.append(time.perf_counter() - start)
    finally:
        conn.close()
    return {
        "batch_metrics_per_s": batches * 1000 / sum(batch_times),
        "single_ops": singles / sum(single_times),
        "single_p50": sorted(single_times)[len(single_times) // 2],
    }
