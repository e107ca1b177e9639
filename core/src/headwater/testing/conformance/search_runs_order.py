"""search_runs order_by: directions, NaN and missing values last, tie-breakers, defaults."""

from __future__ import annotations

import math

import pytest

from headwater.entities import RunStatus
from headwater.exceptions import ErrorCode
from headwater.testing.conformance.base import (
    StoreConformanceBase,
    metric,
    param,
    raises_code,
    search_ids,
    tag,
)


def make_runs(store, experiment_id, specs) -> dict[str, str]:
    """specs: name -> dict(start=..., metrics=..., params=..., tags=...); returns name -> run id."""
    ids = {}
    for name, spec in specs.items():
        run_id = store.create_run(
            experiment_id, start_time=spec.get("start", 1000), run_name=name
        ).info.run_id
        store.log_batch(
            run_id,
            metrics=[metric(k, v) for k, v in spec.get("metrics", {}).items()],
            params=[param(k, v) for k, v in spec.get("params", {}).items()],
            tags=[tag(k, v) for k, v in spec.get("tags", {}).items()],
        )
        ids[name] = run_id
    return ids


def names(ids: dict[str, str], found: list[str]) -> str:
    by_id = {v: k for k, v in ids.items()}
    return ",".join(by_id[r] for r in found)


class SearchRunsOrderConformance(StoreConformanceBase):
    @pytest.fixture
    def spread(self, tracking_store, experiment_id):
        """a=1, b=2, e=+inf, c=NaN, d missing: the spec's observed example."""
        return make_runs(
            tracking_store,
            experiment_id,
            {
                "a": {"start": 5, "metrics": {"m": 1.0}},
                "b": {"start": 4, "metrics": {"m": 2.0}},
                "c": {"start": 3, "metrics": {"m": math.nan}},
                "d": {"start": 2},
                "e": {"start": 1, "metrics": {"m": math.inf}},
            },
        )

    @pytest.mark.parametrize(
        "order_by,expected",
        [
            ("metrics.m", "a,b,e,c,d"),
            ("metrics.m ASC", "a,b,e,c,d"),
            ("metrics.m asc", "a,b,e,c,d"),
            ("metrics.m DESC", "e,b,a,c,d"),
            ("metric.m desc", "e,b,a,c,d"),
        ],
    )
    def test_nan_and_missing_sort_last_both_ways(
        self, tracking_store, experiment_id, spread, order_by, expected
    ):
        assert names(spread, search_ids(tracking_store, [experiment_id], order_by=[order_by])) == expected

    def test_order_by_latest_value(self, tracking_store, experiment_id, spread):
        tracking_store.log_metric(spread["a"], metric("m", 10.0, step=5))
        found = search_ids(tracking_store, [experiment_id], "metrics.m < 1e300", order_by=["metrics.m DESC"])
        assert names(spread, found) == "a,b"

    @pytest.mark.parametrize("entity", ["params", "tags"])
    def test_params_and_tags_sort_as_strings_missing_last(self, tracking_store, experiment_id, entity):
        kind = "params" if entity == "params" else "tags"
        ids = make_runs(
            tracking_store,
            experiment_id,
            {
                "nine": {"start": 1, kind: {"k": "9"}},
                "ten": {"start": 2, kind: {"k": "10"}},
                "none": {"start": 3},
                "hundred": {"start": 4, kind: {"k": "100"}},
            },
        )
        asc = search_ids(tracking_store, [experiment_id], order_by=[f"{entity}.k ASC"])
        desc = search_ids(tracking_store, [experiment_id], order_by=[f"{entity}.k DESC"])
        assert names(ids, asc) == "ten,hundred,nine,none"
        assert names(ids, desc) == "nine,hundred,ten,none"

    def test_order_by_attributes(self, tracking_store, experiment_id):
        ids = make_runs(
            tracking_store,
            experiment_id,
            {"bravo": {"start": 30}, "alpha": {"start": 10}, "charlie": {"start": 20}},
        )
        tracking_store.update_run_info(ids["charlie"], run_status=RunStatus.FINISHED, end_time=100)
        tracking_store.update_run_info(ids["alpha"], run_status=RunStatus.FAILED, end_time=200)
        assert (
            names(ids, search_ids(tracking_store, [experiment_id], order_by=["start_time"]))
            == "alpha,charlie,bravo"
        )
        assert (
            names(ids, search_ids(tracking_store, [experiment_id], order_by=["created DESC"]))
            == "bravo,charlie,alpha"
        )
        assert (
            names(ids, search_ids(tracking_store, [experiment_id], order_by=["run_name"]))
            == "alpha,bravo,charlie"
        )
        assert names(
            ids, search_ids(tracking_store, [experiment_id], order_by=["attributes.run_name DESC"])
        ) == ("charlie,bravo,alpha")
        assert (
            names(ids, search_ids(tracking_store, [experiment_id], order_by=["status"]))
            == "alpha,charlie,bravo"
        )
        # end_time: bravo has none, so it sorts last both ways
        assert (
            names(ids, search_ids(tracking_store, [experiment_id], order_by=["end_time"]))
            == "charlie,alpha,bravo"
        )
        assert names(ids, search_ids(tracking_store, [experiment_id], order_by=["end_time DESC"])) == (
            "alpha,charlie,bravo"
        )
        by_id = search_ids(tracking_store, [experiment_id], order_by=["run_id DESC"])
        assert by_id == sorted(ids.values(), reverse=True)

    def test_order_by_several_keys(self, tracking_store, experiment_id):
        ids = make_runs(
            tracking_store,
            experiment_id,
            {
                "x1": {"params": {"model": "x"}, "metrics": {"m": 1.0}},
                "x2": {"params": {"model": "x"}, "metrics": {"m": 2.0}},
                "y1": {"params": {"model": "y"}, "metrics": {"m": 1.0}},
            },
        )
        found = search_ids(tracking_store, [experiment_id], order_by=["params.model DESC", "metrics.m DESC"])
        assert names(ids, found) == "y1,x2,x1"

    def test_default_order_is_start_time_desc_then_run_id(self, tracking_store, experiment_id):
        ids = make_runs(
            tracking_store,
            experiment_id,
            {
                "early": {"start": 100},
                "late1": {"start": 300},
                "mid": {"start": 200},
                "late2": {"start": 300},
            },
        )
        late = sorted([ids["late1"], ids["late2"]])
        assert search_ids(tracking_store, [experiment_id]) == late + [ids["mid"], ids["early"]]

    def test_ties_break_on_start_time_desc_then_run_id(self, tracking_store, experiment_id):
        ids = make_runs(
            tracking_store,
            experiment_id,
            {
                "old": {"start": 100, "metrics": {"m": 1.0}},
                "new1": {"start": 200, "metrics": {"m": 1.0}},
                "new2": {"start": 200, "metrics": {"m": 1.0}},
            },
        )
        new = sorted([ids["new1"], ids["new2"]])
        for direction in ("ASC", "DESC"):
            found = search_ids(tracking_store, [experiment_id], order_by=[f"metrics.m {direction}"])
            assert found == new + [ids["old"]]
        # when start_time is named, only run_id breaks ties
        found = search_ids(tracking_store, [experiment_id], order_by=["start_time ASC"])
        assert found == [ids["old"]] + new

    @pytest.mark.parametrize(
        "order_by",
        [["metrics.m", "metrics.m DESC"], ["params.p", "params.p"], ["start_time", "created DESC"]],
    )
    def test_duplicate_order_by_field_is_an_internal_error(self, tracking_store, experiment_id, order_by):
        with raises_code(ErrorCode.INTERNAL_ERROR) as info:
            tracking_store.search_runs([experiment_id], order_by=order_by)
        assert "duplicate" in info.value.message

    @pytest.mark.parametrize(
        "order_by",
        ["metrics.m sideways", "foo.bar", "lifecycle_stage", "experiment_id", "metrics.m ASC DESC", ""],
    )
    def test_invalid_run_order_by(self, tracking_store, experiment_id, order_by):
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            tracking_store.search_runs([experiment_id], order_by=[order_by])
