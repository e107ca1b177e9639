"""Browsing summaries computed in the database: downsampled histories and key lists.

A metric of a million points is reduced to about a thousand buckets without
moving the points. The metrics table's primary key is ordered (run, key,
timestamp, …), so a bucket that is a range of timestamps is one index range
scan with MIN/MAX/COUNT and no sort, and the buckets together cost one pass
over the history. On the step axis the same time buckets serve whenever steps
never go back in time (a step counter that only grows): each is then a range of
steps too, and buckets crowded by a pause in the run are cut finer in a second
pass over their points. Otherwise, and for a range of steps, the points are
grouped by step with a GROUP BY.

Key lists are DISTINCT queries over the child tables' primary keys, for the
most recent runs of the experiments.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from headwater.entities import MetricBucket, RunKeys
from headwater.exceptions import HeadwaterError
from headwater_store_sql.schema import latest_metrics, metrics, params, runs, tags

X_AXES = ("step", "timestamp")
MAX_KEYS = 5000  # per kind; beyond that a column picker is of no use anyway

_real_value = sa.case((metrics.c.is_nan, sa.null()), else_=metrics.c.value)


def _range_summary(axis: str) -> sa.Select:
    """MIN/MAX of ``axis``, MIN/MAX of the values and COUNT over one timestamp range."""
    x = metrics.c[axis]
    return sa.select(
        sa.func.min(x), sa.func.max(x), sa.func.min(_real_value), sa.func.max(_real_value), sa.func.count()
    ).where(
        metrics.c.run_id == sa.bindparam("run_id"),
        metrics.c.key == sa.bindparam("key"),
        metrics.c.timestamp >= sa.bindparam("start"),
        metrics.c.timestamp < sa.bindparam("stop"),
    )


# Ranges from which a scan is split over two connections, and the threads that run second halves.
_PARALLEL_FROM = 256
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="headwater-summaries")

# Only what is drawn is computed per row: each aggregate costs about a tenth of the scan.
_RANGE_SUMMARY = {axis: _range_summary(axis) for axis in X_AXES}


def _where(run_id: str, metric_key: str, x: sa.Column, x_min: int | None, x_max: int | None) -> list:
    where = [metrics.c.run_id == run_id, metrics.c.key == metric_key]
    if x_min is not None:
        where.append(x >= x_min)
    if x_max is not None:
        where.append(x <= x_max)
    return where


def _bucket(first, last, low, high, count) -> MetricBucket:
    return MetricBucket.model_construct(
        x_first=int(first), x_last=int(last),
        min=math.nan if low is None else float(low), max=math.nan if high is None else float(high),
        count=int(count),
    )


def downsampled_history(
    conn: Connection,
    run_id: str,
    metric_key: str,
    max_buckets: int,
    x_axis: str = "step",
    x_min: int | None = None,
    x_max: int | None = None,
    engine: sa.Engine | None = None,
) -> list[MetricBucket]:
    """``engine`` (optional) lets long histories be read on two connections at once."""
    if x_axis not in X_AXES:
        raise HeadwaterError.invalid(f"x_axis must be one of {list(X_AXES)}, not {x_axis!r}")
    if max_buckets < 1:
        raise HeadwaterError.invalid("max_buckets must be a positive integer")
    # Counting at most max_buckets + 1 points reads no further: a short history comes back as it is.
    first_points = sa.select(metrics.c.run_id).where(*_where(run_id, metric_key, metrics.c[x_axis], x_min, x_max))
    counted = sa.select(sa.func.count()).select_from(first_points.limit(max_buckets + 1).subquery())
    if conn.execute(counted).scalar_one() <= max_buckets:
        return _raw(conn, run_id, metric_key, x_axis, x_min, x_max)
    if x_axis == "timestamp" or (x_min is None and x_max is None):
        scan = _TimeScan(conn, run_id, metric_key, x_axis, engine)
        bounds = scan.bounds(x_min, x_max)
        if bounds is None:
            return []
        buckets = scan.buckets(_split(*bounds, max_buckets))
        if x_axis == "step" and any(a.x_hi > b.x_lo for a, b in zip(buckets, buckets[1:])):
            return _grouped_by_step(conn, run_id, metric_key, max_buckets, x_min, x_max)
        if x_axis == "step":
            # Steps only grow with time, so every time bucket is a range of steps too; where
            # points crowd into a few of them (a run paused, then resumed), those are cut finer.
            buckets = scan.balanced(buckets, max_buckets)
        return [_bucket(b.x_lo, b.x_hi, b.v_lo, b.v_hi, b.count) for b in buckets]
    return _grouped_by_step(conn, run_id, metric_key, max_buckets, x_min, x_max)


class _Range:
    """One timestamp range ``[start, stop)``: its x range (step or timestamp), values (NaN left out), count."""

    __slots__ = ("start", "stop", "x_lo", "x_hi", "v_lo", "v_hi", "count")

    def __init__(self, start: int, stop: int, row: Sequence) -> None:
        self.start, self.stop = start, stop
        self.x_lo, self.x_hi, self.v_lo, self.v_hi, self.count = row


def _split(start: int, stop: int, n: int) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into at most ``n`` equal integer ranges.

    Range i holds the x with floor((x - start) * n / span) == i: the portable
    default's cut, so timestamp buckets agree with it exactly.
    """
    span = stop - start
    edges = [start + -(-i * span // n) for i in range(n + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:]) if a < b]


class _TimeScan:
    """Summaries of timestamp ranges of one metric, each one index range scan (no sort)."""

    def __init__(self, conn: Connection, run_id: str, metric_key: str, x_axis: str, engine: sa.Engine | None):
        shared = engine is not None and isinstance(engine.pool, (sa.pool.StaticPool, sa.pool.SingletonThreadPool))
        # One connection for everyone (an in-memory SQLite database): no second reader to ask.
        self.conn, self.run_id, self.key, self.engine = conn, run_id, metric_key, None if shared else engine
        self.summary = _RANGE_SUMMARY[x_axis]

    def bounds(self, x_min: int | None, x_max: int | None) -> tuple[int, int] | None:
        """``[first, last + 1)`` of the timestamps within ``[x_min, x_max]``, or None without points."""
        ts = metrics.c.timestamp
        where = _where(self.run_id, self.key, ts, x_min, x_max)
        # Two single-aggregate subqueries: each is answered from the index in one seek.
        lo = sa.select(sa.func.min(ts)).where(*where).scalar_subquery()
        hi = sa.select(sa.func.max(ts)).where(*where).scalar_subquery()
        low, high = self.conn.execute(sa.select(lo, hi)).one()
        return None if low is None else (low, high + 1)

    def buckets(self, ranges: list[tuple[int, int]]) -> list[_Range]:
        compiled = self.summary.compile(dialect=self.conn.dialect)
        if self.engine is None or len(ranges) < _PARALLEL_FROM:
            return self._scan(self.conn, compiled, ranges)
        # Two halves at once, the second on a connection of its own: the database does the
        # work (SQLite releases the GIL while it reads), so two cores take half the time.
        half = len(ranges) // 2

        def second_half() -> list[_Range]:
            with self.engine.connect() as conn:
                return self._scan(conn, compiled, ranges[half:])

        later = _POOL.submit(second_half)
        first = self._scan(self.conn, compiled, ranges[:half])
        return first + later.result()

    def _scan(self, conn: Connection, compiled, ranges: list[tuple[int, int]]) -> list[_Range]:
        # A thousand small queries: on the driver's own cursor, SQLAlchemy's per-call work
        # (about as much again as SQLite's) is done once instead of per range.
        cursor = conn.connection.dbapi_connection.cursor()
        out = []
        try:
            for start, stop in ranges:
                params = {"run_id": self.run_id, "key": self.key, "start": start, "stop": stop}
                if compiled.positional:
                    cursor.execute(compiled.string, tuple(params[name] for name in compiled.positiontup))
                else:
                    cursor.execute(compiled.string, params)
                row = cursor.fetchone()
                if row[-1]:
                    out.append(_Range(start, stop, row))
        finally:
            cursor.close()
        return out

    def balanced(self, buckets: list[_Range], n: int, rounds: int = 3) -> list[_Range]:
        """Buckets holding over twice their share cut into finer time ranges; at most ``n`` in all.

        A bucket is cut over the timestamps it actually holds, so a gap inside it
        costs nothing; each round reads the crowded points once more.
        """
        for _ in range(rounds):
            share = sum(b.count for b in buckets) / n
            dense = {id(b) for b in buckets if b.count > 2 * share}
            if not dense:
                break
            room = n - (len(buckets) - len(dense))
            crowded = sum(b.count for b in buckets if id(b) in dense)
            out: list[_Range] = []
            for b in buckets:
                held = self.bounds(b.start, b.stop - 1) if id(b) in dense else None
                if held is None or held[1] - held[0] < 2:
                    out.append(b)  # light, or all its points share one timestamp
                else:
                    out.extend(self.buckets(_split(*held, max(1, b.count * room // crowded))))
            buckets = out
        return buckets


def _raw(conn: Connection, run_id: str, metric_key: str, x_axis: str, x_min: int | None, x_max: int | None):
    x = metrics.c[x_axis]
    rows = conn.execute(
        sa.select(x, metrics.c.value, metrics.c.is_nan)
        .where(*_where(run_id, metric_key, x, x_min, x_max))
        .order_by(x, metrics.c.timestamp, metrics.c.step, metrics.c.value)
    ).all()
    return [
        _bucket(r[0], r[0], None if r.is_nan else r.value, None if r.is_nan else r.value, 1) for r in rows
    ]


def _grouped_by_step(
    conn: Connection, run_id: str, metric_key: str, n: int, x_min: int | None, x_max: int | None
) -> list[MetricBucket]:
    x = metrics.c.step
    where = _where(run_id, metric_key, x, x_min, x_max)
    count, lo, hi = conn.execute(sa.select(sa.func.count(), sa.func.min(x), sa.func.max(x)).where(*where)).one()
    if count <= n:
        return _raw(conn, run_id, metric_key, "step", x_min, x_max)
    # Equal step ranges: bucket = (x - lo) * n // (hi - lo + 1), in 0..n-1 (integer arithmetic).
    bucket = ((x - sa.literal(lo, sa.BigInteger)) * sa.literal(n, sa.BigInteger)) // sa.literal(
        hi - lo + 1, sa.BigInteger
    )
    query = (
        sa.select(sa.func.min(x), sa.func.max(x), sa.func.min(_real_value), sa.func.max(_real_value), sa.func.count())
        .where(*where)
        .group_by(bucket)
        .order_by(sa.func.min(x))
    )
    return [_bucket(*row) for row in conn.execute(query)]


def run_keys(conn: Connection, experiment_ids: Sequence[int], max_runs: int) -> RunKeys:
    if not experiment_ids:
        return RunKeys()

    def most_recent(stage: str) -> sa.Select:
        # experiment, stage, then start time: the runs index answers this without sorting.
        newest = (
            sa.select(runs.c.run_id)
            .where(runs.c.experiment_id.in_(list(experiment_ids)), runs.c.lifecycle_stage == stage)
            .order_by(runs.c.start_time.desc())
            .limit(max_runs)
            .subquery()
        )
        return sa.select(newest.c.run_id)

    recent = sa.union_all(most_recent("active"), most_recent("deleted")).subquery()

    def distinct_keys(table: sa.Table) -> list[str]:
        query = (
            sa.select(table.c.key)
            .join(recent, recent.c.run_id == table.c.run_id)
            .distinct()
            .order_by(table.c.key)
            .limit(MAX_KEYS)
        )
        return list(conn.execute(query).scalars())

    return RunKeys(params=distinct_keys(params), metrics=distinct_keys(latest_metrics), tags=distinct_keys(tags))
