"""What the UI browses with: downsampled metric histories and the keys used by runs."""

from __future__ import annotations

import math

import pytest

from headwater.testing.conformance.base import StoreConformanceBase, metric, now_ms, param, tag


def buckets_of(store, run_id, key="m", **kwargs):
    return [
        (b.x_first, b.x_last, b.min, b.max, b.count)
        for b in store.get_metric_history_downsampled(run_id, key, **kwargs)
    ]


def log_points(store, run_id, points, key="m"):
    """points: (step, timestamp, value) triples, sent in chunks the batch limit allows."""
    items = [metric(key, value, timestamp=ts, step=step) for step, ts, value in points]
    for start in range(0, len(items), 1000):
        store.log_batch(run_id, metrics=items[start : start + 1000])


def check_buckets_summarise(points, buckets, x_index):
    """Buckets cover disjoint, increasing x ranges, and summarise exactly the points in them."""
    assert sum(b[4] for b in buckets) == len(points)
    for (_, last, *_), (first, *_) in zip(buckets, buckets[1:], strict=False):
        assert last < first
    for x_first, x_last, low, high, count in buckets:
        inside = [p[2] for p in points if x_first <= p[x_index] <= x_last]
        assert len(inside) == count
        finite = [v for v in inside if not math.isnan(v)]
        if finite:
            assert (low, high) == (min(finite), max(finite))
        else:
            assert math.isnan(low) and math.isnan(high)


class BrowsingConformance(StoreConformanceBase):
    def test_few_points_are_their_own_buckets(self, tracking_store, run_id):
        log_points(tracking_store, run_id, [(3, 30, 0.3), (1, 10, 0.1), (2, 20, math.nan), (1, 11, 0.15)])
        buckets = buckets_of(tracking_store, run_id, max_buckets=10)
        assert buckets[0] == (1, 1, 0.1, 0.1, 1)
        assert buckets[1] == (1, 1, 0.15, 0.15, 1)
        x_first, x_last, low, high, count = buckets[2]
        assert (x_first, x_last, count) == (2, 2, 1) and math.isnan(low) and math.isnan(high)
        assert buckets[3] == (3, 3, 0.3, 0.3, 1)
        assert len(buckets) == 4

    def test_equal_ranges_when_there_are_more_points_than_buckets(self, tracking_store, run_id):
        log_points(tracking_store, run_id, [(s, 1000 + s, float(s)) for s in range(100)])
        expected = [(10 * i, 10 * i + 9, 10.0 * i, 10.0 * i + 9, 10) for i in range(10)]
        assert buckets_of(tracking_store, run_id, max_buckets=10) == expected

    def test_a_spike_stays_visible_and_nan_is_ignored(self, tracking_store, run_id):
        points = [(s, s, 1.0) for s in range(200)]
        points[57] = (57, 57, 1000.0)
        points[58] = (58, 58, math.nan)
        points[120:140] = [(s, s, math.nan) for s in range(120, 140)]
        log_points(tracking_store, run_id, points)
        buckets = buckets_of(tracking_store, run_id, max_buckets=10)
        assert len(buckets) == 10
        check_buckets_summarise(points, buckets, x_index=0)
        assert max(b[3] for b in buckets if not math.isnan(b[3])) == 1000.0

    def test_uneven_split(self, tracking_store, run_id):
        points = [(s * 3, 5000 - s, math.sin(s)) for s in range(37)]
        log_points(tracking_store, run_id, points)
        buckets = buckets_of(tracking_store, run_id, max_buckets=5)
        assert 1 < len(buckets) <= 5
        check_buckets_summarise(points, buckets, x_index=0)

    def test_timestamp_axis_and_bounds(self, tracking_store, run_id):
        # Steps and timestamps run in opposite directions, so the axis matters.
        points = [(s, 10_000 - 10 * s, float(s)) for s in range(50)]
        log_points(tracking_store, run_id, points)
        by_time = buckets_of(tracking_store, run_id, max_buckets=100, x_axis="timestamp")
        assert [b[0] for b in by_time] == sorted(p[1] for p in points)
        assert by_time[0][2] == 49.0
        window = buckets_of(tracking_store, run_id, max_buckets=100, x_min=10, x_max=14)
        assert [(b[0], b[2]) for b in window] == [(s, float(s)) for s in range(10, 15)]
        coarse = buckets_of(tracking_store, run_id, max_buckets=4, x_axis="timestamp", x_min=9_600)
        check_buckets_summarise([p for p in points if p[1] >= 9_600], coarse, x_index=1)

    def test_unknown_key_has_no_buckets(self, tracking_store, run_id):
        assert buckets_of(tracking_store, run_id, key="never-logged") == []

    def test_run_keys(self, tracking_store, experiment_id):
        other = tracking_store.create_experiment("keys-elsewhere-" + experiment_id)
        kept = tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id
        gone = tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id
        outside = tracking_store.create_run(other, start_time=now_ms()).info.run_id
        tracking_store.log_batch(
            kept, metrics=[metric("loss", 1.0)], params=[param("lr", "1")], tags=[tag("team", "a")]
        )
        tracking_store.log_batch(gone, metrics=[metric("acc", 1.0)], params=[param("depth", "3")])
        tracking_store.log_batch(outside, metrics=[metric("other_m", 1.0)], params=[param("other_p", "1")])
        tracking_store.delete_run(gone)  # deleted runs count too

        keys = tracking_store.list_run_keys([experiment_id])
        runs = [tracking_store.get_run(r) for r in (kept, gone)]
        assert keys.params == ["depth", "lr"]
        assert keys.metrics == ["acc", "loss"]
        assert keys.tags == sorted({k for run in runs for k in run.data.tags})
        assert "team" in keys.tags

        both = tracking_store.list_run_keys([experiment_id, other])
        assert both.params == ["depth", "lr", "other_p"]

    def test_run_keys_of_an_empty_experiment(self, tracking_store, experiment_id):
        keys = tracking_store.list_run_keys([experiment_id])
        assert (keys.params, keys.metrics, keys.tags) == ([], [], [])

    @pytest.mark.parametrize("max_buckets", [1, 2])
    def test_tiny_bucket_counts(self, tracking_store, run_id, max_buckets):
        points = [(s, s, float(s)) for s in range(10)]
        log_points(tracking_store, run_id, points)
        buckets = buckets_of(tracking_store, run_id, max_buckets=max_buckets)
        assert len(buckets) == max_buckets
        check_buckets_summarise(points, buckets, x_index=0)
