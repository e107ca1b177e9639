"""Downsampled histories and key lists computed in SQL agree with the portable definitions."""

from __future__ import annotations

import math

import pytest

from headwater.entities import Metric, Param, RunTag
from headwater.exceptions import HeadwaterError
from headwater.store.tracking import TrackingStore


def _log(store, run_id, points):
    metrics = [Metric(key="loss", value=v, timestamp=t, step=s) for s, t, v in points]
    for i in range(0, len(metrics), 900):
        store.log_batch(run_id, metrics=metrics[i : i + 900])


def _portable(store, *args, **kwargs):
    return TrackingStore.get_metric_history_downsampled(store, *args, **kwargs)


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.x_first, x.x_last, x.count) == (y.x_first, y.x_last, y.count)
        for u, v in ((x.min, y.min), (x.max, y.max)):
            assert (math.isnan(u) and math.isnan(v)) or u == pytest.approx(v)


def _check(buckets, points, n):
    """Buckets of (x, value) points: few enough, in x order, not overlapping, every point counted."""
    assert 0 < len(buckets) <= n
    assert sum(b.count for b in buckets) == len(points)
    assert all(a.x_last <= b.x_first for a, b in zip(buckets, buckets[1:]))
    assert all(b.x_first <= b.x_last for b in buckets)
    finite = [v for _, v in points if not math.isnan(v)]
    assert max(b.max for b in buckets if not math.isnan(b.max)) == max(finite)
    assert min(b.min for b in buckets if not math.isnan(b.min)) == min(finite)
    for b in buckets:  # each bucket's envelope is that of the points in its x range
        inside = [v for x, v in points if b.x_first <= x <= b.x_last and not math.isnan(v)]
        assert math.isnan(b.max) or (b.max <= max(inside) and b.min >= min(inside))


def test_buckets_keep_spikes(store):
    run_id = store.create_run("0").info.run_id
    points = [(s, 1000 + 7 * s, 100.0 if s == 1234 else math.sin(s / 40)) for s in range(3000)]
    points.append((2999, 99_999, math.nan))  # NaN is counted but never a min or max
    _log(store, run_id, points)
    by_step = store.get_metric_history_downsampled(run_id, "loss", max_buckets=100)
    _check(by_step, [(s, v) for s, _, v in points], 100)
    assert len(by_step) >= 80  # the late NaN point does not squeeze the others into a few buckets
    spike = next(b for b in by_step if b.max == 100.0)
    assert spike.x_first <= 1234 <= spike.x_last
    # On the timestamp axis the buckets are the portable default's, exactly.
    by_time = store.get_metric_history_downsampled(run_id, "loss", max_buckets=64, x_axis="timestamp")
    _same(by_time, _portable(store, run_id, "loss", max_buckets=64, x_axis="timestamp"))
    _check(by_time, [(t, v) for _, t, v in points], 64)
    assert by_time[-1].x_last == 99_999


def test_many_buckets_are_read_on_two_connections_alike(store):
    run_id = store.create_run("0").info.run_id
    points = [(s, 5_000 + 3 * s, math.cos(s / 7) + (9.0 if s == 2222 else 0.0)) for s in range(3000)]
    _log(store, run_id, points)
    by_time = store.get_metric_history_downsampled(run_id, "loss", max_buckets=400, x_axis="timestamp")
    _same(by_time, _portable(store, run_id, "loss", max_buckets=400, x_axis="timestamp"))
    by_step = store.get_metric_history_downsampled(run_id, "loss", max_buckets=400)
    _check(by_step, [(s, v) for s, _, v in points], 400)


def test_an_in_memory_database_is_read_on_its_one_connection(tmp_path):
    from headwater_store_sql.store import SqlTrackingStore

    store = SqlTrackingStore("sqlite://", str(tmp_path / "artifacts"))
    try:
        run_id = store.create_run("0").info.run_id
        _log(store, run_id, [(s, s, float(s)) for s in range(2000)])
        buckets = store.get_metric_history_downsampled(run_id, "loss", max_buckets=500, x_axis="timestamp")
        _same(buckets, _portable(store, run_id, "loss", max_buckets=500, x_axis="timestamp"))
    finally:
        store.close()


def test_a_pause_in_the_run_does_not_cost_resolution(store):
    run_id = store.create_run("0").info.run_id
    points = [(s, 1_000 + s, float(s % 10)) for s in range(2000)] + [(2000, 10_000_000, 5.0)]
    _log(store, run_id, points)
    buckets = store.get_metric_history_downsampled(run_id, "loss", max_buckets=50)
    _check(buckets, [(s, v) for s, _, v in points], 50)
    assert len(buckets) >= 40


def test_steps_that_go_back_in_time_are_grouped_by_step(store):
    run_id = store.create_run("0").info.run_id
    points = [(s, 10_000 - s, float(s)) for s in range(500)] + [(s, 20_000 + s, -float(s)) for s in range(500)]
    _log(store, run_id, points)
    buckets = store.get_metric_history_downsampled(run_id, "loss", max_buckets=25)
    _same(buckets, _portable(store, run_id, "loss", max_buckets=25))
    _check(buckets, [(s, v) for s, _, v in points], 25)


def test_few_points_come_back_as_they_are(store):
    run_id = store.create_run("0").info.run_id
    _log(store, run_id, [(2, 30, 0.5), (1, 20, 0.25), (3, 10, math.nan)])
    buckets = store.get_metric_history_downsampled(run_id, "loss", max_buckets=10)
    assert [(b.x_first, b.count) for b in buckets] == [(1, 1), (2, 1), (3, 1)]
    assert [b.min for b in buckets[:2]] == [0.25, 0.5] and math.isnan(buckets[2].max)
    _same(buckets, _portable(store, run_id, "loss", max_buckets=10))
    assert store.get_metric_history_downsampled(run_id, "other") == []


def test_a_range_is_bucketed_on_its_own(store):
    run_id = store.create_run("0").info.run_id
    _log(store, run_id, [(s, s, float(s)) for s in range(1000)])
    buckets = store.get_metric_history_downsampled(run_id, "loss", max_buckets=50, x_min=100, x_max=199)
    assert len(buckets) == 50 and buckets[0].x_first == 100 and buckets[-1].x_last == 199
    assert sum(b.count for b in buckets) == 100
    _same(buckets, _portable(store, run_id, "loss", max_buckets=50, x_min=100, x_max=199))
    raw = store.get_metric_history_downsampled(run_id, "loss", max_buckets=500, x_min=100, x_max=199)
    assert [b.x_first for b in raw] == list(range(100, 200))


def test_downsampling_refuses_unknown_runs_and_axes(store):
    with pytest.raises(HeadwaterError) as err:
        store.get_metric_history_downsampled("0" * 32, "loss")
    assert err.value.http_status == 404
    run_id = store.create_run("0").info.run_id
    with pytest.raises(HeadwaterError):
        store.get_metric_history_downsampled(run_id, "loss", x_axis="wall")


def test_run_keys_cover_every_run_of_the_experiments(store):
    other = store.create_experiment("keys-other")
    runs = [store.create_run("0").info.run_id for _ in range(3)]
    store.log_batch(runs[0], metrics=[Metric(key="acc", value=1, timestamp=1)], params=[Param(key="lr", value="1")])
    store.log_batch(runs[1], params=[Param(key="depth", value="2")], tags=[RunTag(key="team", value="a")])
    store.delete_run(runs[2])
    store.log_batch(store.create_run(other).info.run_id, params=[Param(key="elsewhere", value="x")])
    keys = store.list_run_keys(["0"])
    assert keys.params == ["depth", "lr"] and keys.metrics == ["acc"]
    assert "team" in keys.tags and "mlflow.runName" in keys.tags
    assert keys == TrackingStore.list_run_keys(store, ["0"])
    assert store.list_run_keys(["0", other]).params == ["depth", "elsewhere", "lr"]
    assert store.list_run_keys([]).params == []
