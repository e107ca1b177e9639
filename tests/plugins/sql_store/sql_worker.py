"""A separate process for the SQL store's multi-process tests (run as a script).

    python sql_worker.py open URI NAME           open a store, create experiment NAME, print its id
    python sql_worker.py write URI RUN_ID WORKER N   log N metrics, params, tags and a batch to RUN_ID
"""

from __future__ import annotations

import sys

from headwater.entities import Metric, Param, RunTag
from headwater_store_sql.store import SqlTrackingStore


def open_store(uri: str, name: str) -> None:
    store = SqlTrackingStore(uri)
    print(store.create_experiment(name))
    store.close()


def write(uri: str, run_id: str, worker: int, count: int) -> None:
    store = SqlTrackingStore(uri)
    for i in range(count):
        step = worker * count + i
        store.log_metric(run_id, Metric(key="m", value=float(step), timestamp=step, step=step))
        store.log_param(run_id, Param(key=f"p{worker}-{i}", value=str(i)))
        store.set_tag(run_id, RunTag(key=f"t{worker}-{i}", value=str(i)))
    store.log_batch(
        run_id,
        metrics=[Metric(key=f"batch{worker}", value=float(j), timestamp=j, step=j) for j in range(count)],
        params=[Param(key="shared", value="same")],
    )
    store.close()


if __name__ == "__main__":
    command, uri, *rest = sys.argv[1:]
    if command == "open":
        open_store(uri, rest[0])
    else:
        write(uri, rest[0], int(rest[1]), int(rest[2]))
