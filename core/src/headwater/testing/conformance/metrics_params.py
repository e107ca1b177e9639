"""log_metric / log_param / get_metric_history: values, ordering, key rules and limits."""

from __future__ import annotations

import math

import pytest

from headwater.entities import Metric, Param, RunTag
from headwater.exceptions import ErrorCode
from headwater.testing.conformance.base import (
    StoreConformanceBase,
    history,
    latest,
    metric,
    now_ms,
    param,
    raises_code,
    tag,
)
from headwater.validation import FLOAT_MAX, MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH

INVALID = ErrorCode.INVALID_PARAMETER_VALUE
MISSING = ErrorCode.RESOURCE_DOES_NOT_EXIST
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"

BAD_KEYS = ["bad!key", "semi;colon", "a//b", "a/./b", "a/../b", "trailing/", "/abs", "../up", ".", "k" * 251]
GOOD_KEYS = ["a/b", "with space", "dots.and-dashes", "colon:ok", "ünïcode", "k" * MAX_KEY_LENGTH]


def _log_key(store, run_id, kind, key):
    if kind == "metric":
        store.log_metric(run_id, metric(key, 1.0))
    elif kind == "param":
        store.log_param(run_id, param(key, "v"))
    else:
        store.set_tag(run_id, tag(key, "v"))


def _logged_keys(run, kind):
    data = run.data
    return {"metric": set(data.metrics), "param": set(data.params), "tag": set(data.tags)}[kind]


class MetricParamConformance(StoreConformanceBase):
    # -- metrics ---------------------------------------------------------------
    def test_log_metric_and_read_it_back(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("loss", 0.5, timestamp=1234, step=3))
        point = latest(tracking_store.get_run(run_id), "loss")
        assert (point.value, point.timestamp, point.step) == (0.5, 1234, 3)
        assert history(tracking_store, run_id, "loss") == [(1234, 3, 0.5)]

    def test_step_defaults_to_zero(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, Metric(key="m", value=1.0, timestamp=5))
        assert history(tracking_store, run_id, "m") == [(5, 0, 1.0)]

    def test_negative_steps_are_allowed(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("m", 1.0, step=-5))
        assert history(tracking_store, run_id, "m") == [(1000, -5, 1.0)]

    def test_large_timestamps_and_steps_fit(self, tracking_store, run_id):
        ts, step = 4_102_444_800_000, 2**40  # year 2100; steps beyond int32
        tracking_store.log_metric(run_id, metric("m", 1.0, timestamp=ts, step=step))
        assert history(tracking_store, run_id, "m") == [(ts, step, 1.0)]

    def test_nan_is_returned_as_nan(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("m", math.nan))
        assert math.isnan(latest(tracking_store.get_run(run_id), "m").value)
        [(_, _, value)] = history(tracking_store, run_id, "m")
        assert math.isnan(value)

    @pytest.mark.parametrize("value,stored", [(math.inf, FLOAT_MAX), (-math.inf, -FLOAT_MAX)])
    def test_infinity_is_returned_as_the_largest_double(self, tracking_store, run_id, value, stored):
        tracking_store.log_metric(run_id, metric("m", value))
        assert latest(tracking_store.get_run(run_id), "m").value == stored
        assert history(tracking_store, run_id, "m") == [(1000, 0, stored)]

    def test_extreme_finite_values_round_trip(self, tracking_store, run_id):
        values = [FLOAT_MAX, -FLOAT_MAX, 5e-324, -0.1, 123456789.123456]
        for i, value in enumerate(values):
            tracking_store.log_metric(run_id, metric("m", value, timestamp=1000 + i))
        assert [v for _, _, v in history(tracking_store, run_id, "m")] == values

    def test_latest_is_the_greatest_step_not_the_last_logged(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("m", 1.0, timestamp=100, step=5))
        tracking_store.log_metric(run_id, metric("m", 2.0, timestamp=200, step=1))
        point = latest(tracking_store.get_run(run_id), "m")
        assert (point.value, point.step, point.timestamp) == (1.0, 5, 100)

    def test_latest_breaks_step_ties_by_timestamp_then_value(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("a", 9.0, timestamp=20, step=3))
        tracking_store.log_metric(run_id, metric("a", 1.0, timestamp=10, step=3))
        tracking_store.log_metric(run_id, metric("b", 7.0, timestamp=10, step=3))
        tracking_store.log_metric(run_id, metric("b", 3.0, timestamp=10, step=3))
        run = tracking_store.get_run(run_id)
        assert latest(run, "a").value == 9.0
        assert latest(run, "b").value == 7.0

    def test_history_is_ordered_by_timestamp_step_value(self, tracking_store, run_id):
        points = [(30, 0, 1.0), (10, 2, 5.0), (10, 1, 7.0), (20, 0, 2.0), (10, 1, 3.0), (5, 9, 0.0)]
        for ts, step, value in points:
            tracking_store.log_metric(run_id, metric("m", value, timestamp=ts, step=step))
        assert history(tracking_store, run_id, "m") == sorted(points)

    def test_identical_points_are_deduplicated(self, tracking_store, run_id):
        for _ in range(3):
            tracking_store.log_metric(run_id, metric("m", 1.5, timestamp=10, step=1))
        tracking_store.log_metric(run_id, metric("m", 2.5, timestamp=10, step=1))
        assert history(tracking_store, run_id, "m") == [(10, 1, 1.5), (10, 1, 2.5)]

    def test_history_of_unknown_key_is_empty(self, tracking_store, run_id):
        page = tracking_store.get_metric_history(run_id, "never-logged")
        assert (page.items, page.token) == ([], None)

    def test_history_carries_the_key(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("acc", 0.9))
        [point] = tracking_store.get_metric_history(run_id, "acc").items
        assert point.key == "acc"

    def test_metrics_of_different_runs_stay_apart(self, tracking_store, experiment_id):
        a = tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id
        b = tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id
        tracking_store.log_metric(a, metric("m", 1.0))
        tracking_store.log_metric(b, metric("m", 2.0, step=1))
        assert history(tracking_store, a, "m") == [(1000, 0, 1.0)]
        assert history(tracking_store, b, "m") == [(1000, 1, 2.0)]

    def test_negative_timestamp_is_refused(self, tracking_store, run_id):
        with raises_code(INVALID):
            tracking_store.log_metric(
                run_id, Metric.model_construct(key="m", value=1.0, timestamp=-1, step=0)
            )
        assert history(tracking_store, run_id, "m") == []

    @pytest.mark.parametrize("value", [True, "abc"])
    def test_non_numeric_metric_value_is_refused(self, tracking_store, run_id, value):
        bad = Metric.model_construct(key="m", value=value, timestamp=1, step=0)
        with raises_code(INVALID):
            tracking_store.log_metric(run_id, bad)
        assert history(tracking_store, run_id, "m") == []

    def test_log_metric_to_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.log_metric(UNKNOWN_RUN, metric("m", 1.0))

    def test_bulk_interval_samples_each_run(self, tracking_store, experiment_id):
        runs = [tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id for _ in range(2)]
        for run_id in runs:
            tracking_store.log_batch(
                run_id, metrics=[metric("m", s * 1.0, timestamp=1000 + s, step=s) for s in range(20)]
            )
        points = tracking_store.get_metric_history_bulk_interval(runs, "m", max_results=5)
        for run_id in runs:
            steps = [p.step for p in points if p.run_id == run_id]
            assert len(steps) == 5 and steps == sorted(steps)
            assert (steps[0], steps[-1]) == (0, 19)
        window = tracking_store.get_metric_history_bulk_interval(runs[:1], "m", start_step=5, end_step=8)
        assert [p.step for p in window] == [5, 6, 7, 8]

    # -- params ----------------------------------------------------------------
    def test_log_param(self, tracking_store, run_id):
        tracking_store.log_param(run_id, param("alpha", "0.1"))
        tracking_store.log_param(run_id, param("empty", ""))
        assert tracking_store.get_run(run_id).data.params == {"alpha": "0.1", "empty": ""}

    def test_same_param_value_again_is_a_no_op(self, tracking_store, run_id):
        tracking_store.log_param(run_id, param("alpha", "0.1"))
        tracking_store.log_param(run_id, param("alpha", "0.1"))
        assert tracking_store.get_run(run_id).data.params == {"alpha": "0.1"}

    def test_changing_a_param_is_refused(self, tracking_store, run_id):
        tracking_store.log_param(run_id, param("alpha", "0.1"))
        with raises_code(INVALID) as info:
            tracking_store.log_param(run_id, param("alpha", "0.2"))
        assert "alpha" in info.value.message
        assert tracking_store.get_run(run_id).data.params == {"alpha": "0.1"}

    def test_param_value_is_truncated_before_comparing(self, tracking_store, run_id):
        long_value = "v" * (MAX_PARAM_VALUE_LENGTH + 100)
        tracking_store.log_param(run_id, param("long", long_value))
        tracking_store.log_param(run_id, param("long", long_value))  # same after truncation
        assert tracking_store.get_run(run_id).data.params["long"] == "v" * MAX_PARAM_VALUE_LENGTH

    def test_multibyte_values_fill_the_limits(self, tracking_store, run_id):
        # Limits count characters, not bytes: 4-byte characters must fit too.
        rocket = "\U0001f680"
        tracking_store.log_param(run_id, param("p", rocket * (MAX_PARAM_VALUE_LENGTH + 1)))
        tracking_store.set_tag(run_id, tag("t", "\u00e9" + rocket * (MAX_TAG_VALUE_LENGTH + 1)))
        tracking_store.log_param(run_id, param("unicode", "na\u00efve \u65e5\u672c " + rocket))
        data = tracking_store.get_run(run_id).data
        assert data.params["p"] == rocket * MAX_PARAM_VALUE_LENGTH
        assert data.tags["t"] == "\u00e9" + rocket * (MAX_TAG_VALUE_LENGTH - 1)
        assert data.params["unicode"] == "na\u00efve \u65e5\u672c " + rocket

    def test_log_param_to_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.log_param(UNKNOWN_RUN, param("a", "1"))

    # -- key rules, shared by metrics, params and tags ------------------------------
    @pytest.mark.parametrize("kind", ["metric", "param", "tag"])
    @pytest.mark.parametrize("key", BAD_KEYS, ids=lambda k: k if len(k) < 20 else f"{len(k)}-chars")
    def test_bad_keys_are_refused(self, tracking_store, run_id, kind, key):
        before = _logged_keys(tracking_store.get_run(run_id), kind)
        with raises_code(INVALID):
            _log_key(tracking_store, run_id, kind, key)
        assert _logged_keys(tracking_store.get_run(run_id), kind) == before

    @pytest.mark.parametrize("kind", ["metric", "param", "tag"])
    def test_good_keys_are_accepted(self, tracking_store, run_id, kind):
        for key in GOOD_KEYS:
            _log_key(tracking_store, run_id, kind, key)
        assert set(GOOD_KEYS) <= _logged_keys(tracking_store.get_run(run_id), kind)

    def test_over_long_key_names_the_limit(self, tracking_store, run_id):
        with raises_code(INVALID) as info:
            tracking_store.log_param(run_id, Param(key="k" * 251, value="v"))
        assert "250" in info.value.message
        with raises_code(INVALID):
            tracking_store.set_tag(run_id, RunTag(key="k" * 251, value="v"))
