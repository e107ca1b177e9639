"""log_batch: limits, duplicate params, and all-or-nothing writes."""

from __future__ import annotations

import pytest

from headwater.entities import Metric
from headwater.exceptions import ErrorCode
from headwater.testing.conformance.base import (
    RUN_NAME_TAG,
    StoreConformanceBase,
    history,
    latest,
    metric,
    param,
    raises_code,
    tag,
)
from headwater.validation import MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH

INVALID = ErrorCode.INVALID_PARAMETER_VALUE
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


def metrics(n: int, key: str = "m") -> list[Metric]:
    return [metric(key, float(i), timestamp=1000 + i, step=i) for i in range(n)]


def params(n: int) -> list:
    return [param(f"p{i}", str(i)) for i in range(n)]


def tags(n: int) -> list:
    return [tag(f"t{i}", str(i)) for i in range(n)]


def snapshot(store, run_id, metric_keys=("m",)):
    """Everything a batch could have written to the run."""
    run = store.get_run(run_id)
    histories = {key: history(store, run_id, key) for key in metric_keys}
    latest_points = sorted((m.key, m.value, m.timestamp, m.step) for m in run.data.latest_metrics)
    return latest_points, run.data.params, run.data.tags, histories


class BatchConformance(StoreConformanceBase):
    def test_batch_writes_metrics_params_and_tags(self, tracking_store, run_id):
        tracking_store.log_batch(
            run_id,
            metrics=[metric("m", 1.0, step=0), metric("m", 2.0, step=1), metric("n", 5.0)],
            params=[param("a", "1"), param("b", "2")],
            tags=[tag("x", "y")],
        )
        run = tracking_store.get_run(run_id)
        assert run.data.metrics == {"m": 2.0, "n": 5.0}
        assert run.data.params == {"a": "1", "b": "2"}
        assert run.data.tags["x"] == "y"
        assert history(tracking_store, run_id, "m") == [(1000, 0, 1.0), (1000, 1, 2.0)]

    def test_empty_batch_is_a_no_op(self, tracking_store, run_id):
        before = snapshot(tracking_store, run_id)
        tracking_store.log_batch(run_id)
        assert snapshot(tracking_store, run_id) == before

    def test_batch_at_the_limits_is_accepted(self, tracking_store, experiment_id, run_id):
        tracking_store.log_batch(run_id, metrics=metrics(1000))
        assert len(history(tracking_store, run_id, "m")) == 1000
        assert latest(tracking_store.get_run(run_id), "m").step == 999
        other = tracking_store.create_run(experiment_id, start_time=1).info.run_id
        tracking_store.log_batch(other, metrics=metrics(800), params=params(100), tags=tags(100))
        run = tracking_store.get_run(other)
        assert len(run.data.params) == 100
        assert {f"t{i}" for i in range(100)} <= set(run.data.tags)

    @pytest.mark.parametrize(
        "n_metrics,n_params,n_tags,word",
        [
            (1001, 0, 0, "metrics"),
            (0, 101, 0, "params"),
            (0, 0, 101, "tags"),
            (900, 100, 1, "params, and tags"),
        ],
    )
    def test_batch_over_a_limit_writes_nothing(
        self, tracking_store, run_id, n_metrics, n_params, n_tags, word
    ):
        before = snapshot(tracking_store, run_id)
        with raises_code(INVALID) as info:
            tracking_store.log_batch(
                run_id, metrics=metrics(n_metrics), params=params(n_params), tags=tags(n_tags)
            )
        assert word in info.value.message
        assert snapshot(tracking_store, run_id) == before

    def test_duplicate_param_keys_are_refused(self, tracking_store, run_id):
        before = snapshot(tracking_store, run_id)
        with raises_code(INVALID) as info:
            tracking_store.log_batch(
                run_id, metrics=metrics(3), params=[param("p", "1"), param("q", "2"), param("p", "1")]
            )
        assert "Duplicate" in info.value.message and "p" in info.value.message
        assert snapshot(tracking_store, run_id) == before

    def test_conflicting_param_at_the_end_writes_nothing(self, tracking_store, run_id):
        tracking_store.log_param(run_id, param("p", "1"))
        before = snapshot(tracking_store, run_id, ("m", "n"))
        with raises_code(INVALID):
            tracking_store.log_batch(
                run_id,
                metrics=metrics(50) + [metric("n", 1.0)],
                params=[param("fresh", "x"), param("p", "2")],
                tags=[tag("t", "v"), tag(RUN_NAME_TAG, "should-not-apply")],
            )
        assert snapshot(tracking_store, run_id, ("m", "n")) == before
        assert tracking_store.get_run(run_id).data.params == {"p": "1"}

    def test_invalid_item_in_the_middle_writes_nothing(self, tracking_store, run_id):
        before = snapshot(tracking_store, run_id)
        bad = Metric.model_construct(key="m", value=1.0, timestamp=-5, step=0)
        with raises_code(INVALID) as info:
            tracking_store.log_batch(
                run_id, metrics=metrics(5) + [bad] + metrics(3, "other"), params=params(2), tags=tags(2)
            )
        assert "metrics[5]" in info.value.message
        assert snapshot(tracking_store, run_id) == before

    @pytest.mark.parametrize("bad", ["bad!key", "k" * 251])
    def test_bad_param_or_tag_key_writes_nothing(self, tracking_store, run_id, bad):
        before = snapshot(tracking_store, run_id)
        with raises_code(INVALID):
            tracking_store.log_batch(run_id, metrics=metrics(2), params=[param(bad, "v")])
        with raises_code(INVALID):
            tracking_store.log_batch(run_id, metrics=metrics(2), tags=[tag(bad, "v")])
        assert snapshot(tracking_store, run_id) == before

    def test_same_param_value_in_batch_is_a_no_op(self, tracking_store, run_id):
        tracking_store.log_param(run_id, param("p", "1"))
        tracking_store.log_batch(run_id, params=[param("p", "1"), param("q", "2")])
        assert tracking_store.get_run(run_id).data.params == {"p": "1", "q": "2"}

    def test_identical_points_in_a_batch_are_deduplicated(self, tracking_store, run_id):
        tracking_store.log_metric(run_id, metric("m", 1.0, timestamp=10))
        tracking_store.log_batch(
            run_id,
            metrics=[
                metric("m", 1.0, timestamp=10),
                metric("m", 2.0, timestamp=10),
                metric("m", 2.0, timestamp=10),
            ],
        )
        assert history(tracking_store, run_id, "m") == [(10, 0, 1.0), (10, 0, 2.0)]

    def test_latest_metric_is_computed_across_batches(self, tracking_store, run_id):
        tracking_store.log_batch(run_id, metrics=[metric("m", 5.0, step=10), metric("m", 6.0, step=2)])
        tracking_store.log_batch(run_id, metrics=[metric("m", 7.0, step=3)])
        assert latest(tracking_store.get_run(run_id), "m").value == 5.0

    def test_long_values_are_truncated(self, tracking_store, run_id):
        tracking_store.log_batch(
            run_id,
            params=[param("p", "x" * (MAX_PARAM_VALUE_LENGTH + 1))],
            tags=[tag("t", "y" * (MAX_TAG_VALUE_LENGTH + 1))],
        )
        data = tracking_store.get_run(run_id).data
        assert data.params["p"] == "x" * MAX_PARAM_VALUE_LENGTH
        assert data.tags["t"] == "y" * MAX_TAG_VALUE_LENGTH

    def test_run_name_tag_in_a_batch_renames_the_run(self, tracking_store, run_id):
        tracking_store.log_batch(run_id, tags=[tag(RUN_NAME_TAG, "batch-name")])
        assert tracking_store.get_run(run_id).info.run_name == "batch-name"

    def test_tag_repeated_in_a_batch_keeps_the_last_value(self, tracking_store, run_id):
        tracking_store.log_batch(run_id, tags=[tag("t", "1"), tag("t", "2")])
        assert tracking_store.get_run(run_id).data.tags["t"] == "2"

    def test_batch_to_unknown_run(self, tracking_store):
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            tracking_store.log_batch(UNKNOWN_RUN, metrics=metrics(1))
