"""Browsing summaries computed in the database: downsampled histories and key lists.

A metric of a million points is reduced to a thousand buckets by one GROUP BY
over the metrics table's primary key (run, key, timestamp, step, …), so only
the buckets cross the wire. Key lists are DISTINCT queries over the child
tables' primary keys, restricted to the experiments' runs.
"""

from __future__ import annotations

import math
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from headwater.entities import MetricBucket, RunKeys
from headwater.exceptions import HeadwaterError
from headwater_store_sql.schema import latest_metrics, metrics, params, runs, tags

X_AXES = ("step", "timestamp")
MAX_KEYS = 5000  # per kind; beyond that a column picker is of no use anyway


def downsampled_history(
    conn: Connection,
    run_id: str,
    metric_key: str,
    max_buckets: int,
    x_axis: str = "step",
    x_min: int | None = None,
    x_max: int | None = None,
) -> list[MetricBucket]:
    if x_axis not in X_AXES:
        raise HeadwaterError.invalid(f"x_axis must be one of {list(X_AXES)}, not {x_axis!r}")
    if max_buckets < 1:
        raise HeadwaterError.invalid("max_buckets must be a positive integer")
    x = metrics.c[x_axis]
    where = [metrics.c.run_id == run_id, metrics.c.key == metric_key]
    if x_min is not None:
        where.append(x >= x_min)
    if x_max is not None:
        where.append(x <= x_max)
    count, lo, hi = conn.execute(sa.select(sa.func.count(), sa.func.min(x), sa.func.max(x)).where(*where)).one()
    if count <= max_buckets:
        rows = conn.execute(
            sa.select(x, metrics.c.value, metrics.c.is_nan)
            .where(*where)
            .order_by(x, metrics.c.timestamp, metrics.c.step, metrics.c.value)
        ).all()
        return [
            MetricBucket.model_construct(
                x_first=r[0], x_last=r[0], min=math.nan if r.is_nan else r.value,
                max=math.nan if r.is_nan else r.value, count=1,
            )
            for r in rows
        ]
    # Equal x ranges: bucket = (x - lo) * n // (hi - lo + 1), in 0..n-1 (integer arithmetic).
    bucket = ((x - sa.literal(lo, sa.BigInteger)) * sa.literal(max_buckets, sa.BigInteger)) // sa.literal(
        hi - lo + 1, sa.BigInteger
    )
    real_value = sa.case((metrics.c.is_nan, sa.null()), else_=metrics.c.value)
    query = (
        sa.select(
            sa.func.min(x), sa.func.max(x), sa.func.min(real_value), sa.func.max(real_value), sa.func.count()
        )
        .where(*where)
        .group_by(bucket)
        .order_by(sa.func.min(x))
    )
    return [
        MetricBucket.model_construct(
            x_first=int(first), x_last=int(last),
            min=math.nan if low is None else float(low), max=math.nan if high is None else float(high),
            count=int(n),
        )
        for first, last, low, high, n in conn.execute(query)
    ]


def run_keys(conn: Connection, experiment_ids: Sequence[int]) -> RunKeys:
    if not experiment_ids:
        return RunKeys()
    run_ids = sa.select(runs.c.run_id).where(runs.c.experiment_id.in_(list(experiment_ids))).scalar_subquery()

    def distinct_keys(table: sa.Table) -> list[str]:
        query = (
            sa.select(table.c.key).where(table.c.run_id.in_(run_ids)).distinct().order_by(table.c.key).limit(MAX_KEYS)
        )
        return list(conn.execute(query).scalars())

    return RunKeys(params=distinct_keys(params), metrics=distinct_keys(latest_metrics), tags=distinct_keys(tags))
