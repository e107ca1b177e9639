"""Page tokens and max_results for search_runs, search_experiments and metric history."""

from __future__ import annotations

import base64

import pytest

from headwater.exceptions import ErrorCode
from headwater.store.paging import encode_page_token
from headwater.testing.conformance.base import StoreConformanceBase, metric, raises_code, run_ids
from headwater.validation import SEARCH_MAX_RESULTS_LIMIT, SEARCH_RUNS_MAX_RESULTS_DEFAULT

INVALID = ErrorCode.INVALID_PARAMETER_VALUE
BAD_TOKENS = [
    "not a token",
    "!!!",
    base64.b64encode(b"not json").decode(),
    base64.b64encode(b'{"offset": -1}').decode(),
]


def all_pages(fetch, page_size):
    """Follow tokens from the first page to the last; returns the page sizes and every item."""
    sizes, items, token = [], [], None
    for _ in range(1000):
        page = fetch(max_results=page_size, page_token=token)
        sizes.append(len(page.items))
        items.extend(page.items)
        token = page.token
        if token is None:
            return sizes, items
    raise AssertionError("page tokens never ran out")


def make_runs(store, experiment_id, count):
    return [store.create_run(experiment_id, start_time=1000 + i).info.run_id for i in range(count)]


class PaginationConformance(StoreConformanceBase):
    @pytest.mark.parametrize(
        "count,page_size,sizes", [(7, 3, [3, 3, 1]), (6, 3, [3, 3]), (2, 5, [2]), (0, 5, [0])]
    )
    def test_search_runs_pages(self, tracking_store, experiment_id, count, page_size, sizes):
        ids = make_runs(tracking_store, experiment_id, count)

        def fetch(**kw):
            return tracking_store.search_runs([experiment_id], **kw)

        got_sizes, runs = all_pages(fetch, page_size)
        assert got_sizes == sizes  # no token on the last page, not even when it is full
        assert run_ids(runs) == list(reversed(ids))  # default order, no duplicates, no gaps

    def test_search_runs_pages_keep_filter_and_order(self, tracking_store, experiment_id):
        ids = make_runs(tracking_store, experiment_id, 9)
        for i, run_id in enumerate(ids):
            tracking_store.log_metric(run_id, metric("m", float(i % 4)))

        def fetch(**kw):
            return tracking_store.search_runs(
                [experiment_id], filter_string="metrics.m >= 1", order_by=["metrics.m DESC"], **kw
            )

        _, runs = all_pages(fetch, 2)
        single = tracking_store.search_runs(
            [experiment_id], filter_string="metrics.m >= 1", order_by=["metrics.m DESC"]
        )
        assert run_ids(runs) == run_ids(single.items)
        assert len(runs) == 6 and single.token is None

    def test_token_past_the_end_gives_an_empty_last_page(self, tracking_store, experiment_id):
        make_runs(tracking_store, experiment_id, 3)
        first = tracking_store.search_runs([experiment_id], max_results=2)
        second = tracking_store.search_runs([experiment_id], max_results=2, page_token=first.token)
        assert len(second.items) == 1 and second.token is None
        beyond = tracking_store.search_runs([experiment_id], max_results=2, page_token=encode_page_token(50))
        assert (beyond.items, beyond.token) == ([], None)

    def test_search_experiments_pages(self, tracking_store):
        for i in range(6):
            tracking_store.create_experiment(f"paged-{i}")

        def fetch(**kw):
            return tracking_store.search_experiments(order_by=["name"], **kw)

        sizes, exps = all_pages(fetch, 3)
        assert sizes == [3, 3, 1]  # the six plus "Default"
        assert [e.name for e in exps] == sorted(["Default"] + [f"paged-{i}" for i in range(6)])

    def test_metric_history_pages(self, tracking_store, run_id):
        points = [metric("m", float(i), timestamp=100 + i, step=i) for i in range(5)]
        tracking_store.log_batch(run_id, metrics=points)

        def fetch(**kw):
            return tracking_store.get_metric_history(run_id, "m", **kw)

        sizes, got = all_pages(fetch, 2)
        assert sizes == [2, 2, 1]
        assert [m.step for m in got] == [0, 1, 2, 3, 4]
        everything = tracking_store.get_metric_history(run_id, "m")
        assert len(everything.items) == 5 and everything.token is None

    @pytest.mark.parametrize("token", BAD_TOKENS)
    def test_bad_page_token(self, tracking_store, experiment_id, run_id, token):
        with raises_code(INVALID):
            tracking_store.search_runs([experiment_id], page_token=token)
        with raises_code(INVALID):
            tracking_store.search_experiments(page_token=token)
        with raises_code(INVALID):
            tracking_store.get_metric_history(run_id, "m", max_results=10, page_token=token)

    @pytest.mark.parametrize("max_results", [0, -1, SEARCH_MAX_RESULTS_LIMIT + 1])
    def test_max_results_out_of_range(self, tracking_store, experiment_id, run_id, max_results):
        with raises_code(INVALID):
            tracking_store.search_runs([experiment_id], max_results=max_results)
        with raises_code(INVALID):
            tracking_store.search_experiments(max_results=max_results)

    @pytest.mark.parametrize("max_results", [0, -1])
    def test_metric_history_max_results_must_be_positive(self, tracking_store, run_id, max_results):
        with raises_code(INVALID):
            tracking_store.get_metric_history(run_id, "m", max_results=max_results)

    def test_max_results_limit_is_accepted(self, tracking_store, experiment_id):
        ids = make_runs(tracking_store, experiment_id, 2)
        page = tracking_store.search_runs([experiment_id], max_results=SEARCH_MAX_RESULTS_LIMIT)
        assert set(run_ids(page.items)) == set(ids) and page.token is None
        assert tracking_store.search_experiments(max_results=SEARCH_MAX_RESULTS_LIMIT).token is None

    @pytest.mark.slow
    def test_search_runs_default_page_size(self, tracking_store, experiment_id):
        count = SEARCH_RUNS_MAX_RESULTS_DEFAULT + 1
        ids = make_runs(tracking_store, experiment_id, count)
        first = tracking_store.search_runs([experiment_id])
        assert len(first.items) == SEARCH_RUNS_MAX_RESULTS_DEFAULT and first.token
        rest = tracking_store.search_runs([experiment_id], page_token=first.token)
        assert run_ids(rest.items) == [ids[0]] and rest.token is None
