"""search_runs filters: every case of search-grammar.md §2 and §7 on a small zoo of runs."""

from __future__ import annotations

import math

import pytest

from headwater.entities import RunStatus, ViewType
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.testing.conformance.base import (
    StoreConformanceBase,
    metric,
    param,
    raises_code,
    search_ids,
    tag,
)
from headwater.testing.conformance.runs import dataset_input

# The zoo: run letter -> what is logged to it. Start times are fixed so that
# time filters have known answers; d has no metrics and no params, e no tags.
ZOO = {
    "a": {
        "start": 1000,
        "name": "alpha-run",
        "user": "ana",
        "status": RunStatus.FINISHED,
        "end": 5000,
        "metrics": {"m": 1.0, "rmse": 0.5, "my metric": 3.0, "my-metric": 4.0},
        "params": {"model": "ridge", "quote": "it''s"},
        "tags": {"team": "ml", "mlflow.source.type": "LOCAL"},
        "datasets": [("train", "d1", "training")],
    },
    "b": {
        "start": 2000,
        "name": "beta-run",
        "user": "bob",
        "status": RunStatus.RUNNING,
        "end": None,
        "metrics": {"m": 2.0, "rmse": 1.5},
        "params": {"model": "Ridge", "lr": "0.1"},
        "tags": {"team": "ML", "mlflow.source.type": "JOB"},
        "datasets": [("eval", "d2", "evaluation")],
    },
    "c": {
        "start": 3000,
        "name": "gamma",
        "user": "ana",
        "status": RunStatus.FAILED,
        "end": None,
        "metrics": {"m": math.nan},
        "params": {"model": "lasso"},
        "tags": {},
        "datasets": [("train", "d3", None)],
    },
    "d": {
        "start": 4000,
        "name": "Delta",
        "user": "cy",
        "status": RunStatus.RUNNING,
        "end": None,
        "metrics": {},
        "params": {},
        "tags": {"team": "ops"},
        "datasets": [],
    },
    "e": {
        "start": 5000,
        "name": "epsilon",
        "user": "cy",
        "status": RunStatus.RUNNING,
        "end": None,
        "metrics": {"m": math.inf},
        "params": {},
        "tags": {},
        "datasets": [],
    },
}


def build_zoo(store, experiment_id: str) -> dict[str, str]:
    """Create the zoo's runs in ``experiment_id``; returns letter -> run id."""
    ids = {}
    for letter, spec in ZOO.items():
        run_id = store.create_run(
            experiment_id, user_id=spec["user"], start_time=spec["start"], run_name=spec["name"]
        ).info.run_id
        store.log_batch(
            run_id,
            metrics=[metric(k, v, timestamp=spec["start"]) for k, v in spec["metrics"].items()],
            params=[param(k, v) for k, v in spec["params"].items()],
            tags=[tag(k, v) for k, v in spec["tags"].items()],
        )
        if spec["datasets"]:
            store.log_inputs(run_id, [dataset_input(*d) for d in spec["datasets"]])
        if spec["status"] != RunStatus.RUNNING or spec["end"] is not None:
            store.update_run_info(run_id, run_status=spec["status"], end_time=spec["end"])
        ids[letter] = run_id
    return ids


# Filter cases by area: (filter, letters of the runs it must return); "{a}" stands for run a's id.
# Each area is one test that reports every case it gets wrong.
FILTER_CASES = {
    # metrics compare against the latest value; NaN satisfies only "!="; missing keys never match
    "metrics": [
        ("metrics.m = 1", "a"),
        ("metrics.m != 1", "bce"),
        ("metrics.m > 1", "be"),
        ("metrics.m >= 1", "abe"),
        ("metrics.m < 2", "a"),
        ("metrics.m <= 0", ""),
        ("metrics.m = 0", ""),
        ("metrics.m > 1e300", "e"),
        ("metrics.m > -1", "abe"),
        ("metrics.m != -1.5", "abce"),
        ("metric.m = 2", "b"),
        ("metrics.rmse < 1", "a"),
        ("metrics.`my metric` = 3", "a"),
        ('metrics."my-metric" = 4', "a"),
    ],
    # params: case-sensitive =, LIKE vs ILIKE, missing keys, IS [NOT] NULL
    "params": [
        ("params.model = 'ridge'", "a"),
        ('params.model = "ridge"', "a"),
        ("params.model != 'ridge'", "bc"),
        ("params.model LIKE 'r%'", "a"),
        ("params.model LIKE 'R%'", "b"),
        ("params.model ILIKE 'r%'", "ab"),
        ("params.model like '%idg%'", "ab"),
        ("params.model LIKE 'l_sso'", "c"),
        ("params.model ILIKE 'RIDGE'", "ab"),
        ("params.lr IS NULL", "acde"),
        ("params.lr IS NOT NULL", "b"),
        ("param.model is null", "de"),
        ("parameter.model = 'lasso'", "c"),
        ("parameters.model = 'lasso'", "c"),
        ("params.quote = 'it''s'", "a"),
    ],
    # tags
    "tags": [
        ("tags.team = 'ml'", "a"),
        ("tags.team != 'ml'", "bd"),
        ("tags.team ILIKE 'ml'", "ab"),
        ("tags.team LIKE 'M%'", "b"),
        ("tags.team IS NULL", "ce"),
        ("tag.team IS NOT NULL", "abd"),
        ("tags.mlflow.runName = 'gamma'", "c"),
        ("tags.`mlflow.runName` = 'gamma'", "c"),
    ],
    # attributes
    "attributes": [
        ("attributes.run_id IN ('{a}', '{b}')", "ab"),
        ("run_id NOT IN ('{a}')", "bcde"),
        ("attributes.run_id = '{c}'", "c"),
        ("run_name = 'gamma'", "c"),
        ("attributes.run_name LIKE '%-run'", "ab"),
        ("`Run name` = 'Delta'", "d"),
        ("`run name` ILIKE 'delta'", "d"),
        ("`Run Name` LIKE 'delta'", ""),
        ("run_name != 'gamma'", "abde"),
        ("start_time >= 3000", "cde"),
        ("created < 2000", "a"),
        ("Created > 4000", "e"),
        ("attributes.start_time = 2000", "b"),
        ("start_time != 1000", "bcde"),
        ("start_time >= 1.5", "abcde"),
        ("end_time <= 5000", "a"),
        ("status = 'FINISHED'", "a"),
        ("attributes.status != 'RUNNING'", "ac"),
        ("attribute.status = 'FAILED'", "c"),
        ("user_id = 'ana'", "ac"),
        ("attr.user_id = 'bob'", "b"),
        ("run.user_id = 'cy'", "de"),
        ("artifact_uri LIKE '%{a}%'", "a"),
    ],
    # datasets
    "datasets": [
        ("datasets.name = 'train'", "ac"),
        ("dataset.name IN ('train', 'eval')", "abc"),
        ("datasets.digest = 'd2'", "b"),
        ("datasets.context = 'evaluation'", "b"),
        ("datasets.name LIKE 'tr%'", "ac"),
        ("datasets.name = 'train' and datasets.context IN ('training')", "a"),
    ],
    # combinations (AND in any case), and the spec's examples
    "combinations": [
        ("metrics.rmse < 1 and params.model = \"ridge\" and tags.`mlflow.source.type` = 'LOCAL'", "a"),
        ("start_time >= 1000 and run_name LIKE '%a' and tags.team IS NULL", "c"),
        ("metrics.m > 0 AND params.model ILIKE '%idge'", "ab"),
        ("user_id = 'cy' And metrics.m >= 0", "e"),
        ("", "abcde"),
    ],
}

INVALID_FILTERS = [
    "metrics.m = 1 OR metrics.m = 2",
    "(params.model = 'ridge')",
    "params.model = 'a'; params.model = 'b'",
    "params.model = ridge",
    "metrics.m = '1'",
    "metrics.m <> 1",
    "metrics.m IS NULL",
    "metrics.m LIKE '1'",
    "params.model IN ('ridge')",
    "params.model > 'a'",
    "status IN ('RUNNING')",
    "attributes.run_id IN ()",
    "start_time > 'x'",
    "lifecycle_stage = 'deleted'",
    "experiment_id = '0'",
    "foo.bar = 'x'",
    "metrics.m",
]


class SearchRunsFilterConformance(StoreConformanceBase):
    @pytest.fixture
    def zoo(self, tracking_store, experiment_id) -> dict[str, str]:
        return build_zoo(tracking_store, experiment_id)

    @pytest.mark.parametrize("area", list(FILTER_CASES))
    def test_run_filter(self, tracking_store, experiment_id, zoo, area):
        letters = {run_id: letter for letter, run_id in zoo.items()}
        wrong = []
        for filter_string, expected in FILTER_CASES[area]:
            try:
                found = search_ids(tracking_store, [experiment_id], filter_string.format(**zoo))
                got = "".join(sorted(letters.get(r, "?") for r in found))
            except HeadwaterError as err:
                got = f"{err.error_code}: {err.message}"
            if got != expected:
                wrong.append(f"{filter_string!r}: expected {expected!r}, got {got!r}")
        assert not wrong, "\n".join(wrong)

    def test_no_filter_returns_every_active_run(self, tracking_store, experiment_id, zoo):
        assert set(search_ids(tracking_store, [experiment_id], None)) == set(zoo.values())

    @pytest.mark.parametrize("filter_string", INVALID_FILTERS)
    def test_invalid_run_filter(self, tracking_store, experiment_id, filter_string):
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            tracking_store.search_runs([experiment_id], filter_string=filter_string)

    def test_filter_follows_a_rename(self, tracking_store, experiment_id, zoo):
        tracking_store.set_tag(zoo["a"], tag("mlflow.runName", "renamed"))
        assert search_ids(tracking_store, [experiment_id], "run_name = 'renamed'") == [zoo["a"]]
        tracking_store.update_run_info(zoo["b"], run_name="renamed-too")
        assert search_ids(tracking_store, [experiment_id], "tags.mlflow.runName = 'renamed-too'") == [
            zoo["b"]
        ]

    def test_filter_uses_the_latest_metric(self, tracking_store, experiment_id, zoo):
        tracking_store.log_metric(zoo["a"], metric("m", 50.0, timestamp=1, step=7))
        tracking_store.log_metric(zoo["b"], metric("m", 60.0, timestamp=99999, step=-1))
        assert search_ids(tracking_store, [experiment_id], "metrics.m = 50") == [zoo["a"]]
        assert search_ids(tracking_store, [experiment_id], "metrics.m = 2") == [zoo["b"]]

    def test_search_spans_the_listed_experiments_only(self, tracking_store, experiment_id):
        other = tracking_store.create_experiment("other-" + experiment_id)
        third = tracking_store.create_experiment("third-" + experiment_id)
        mine = tracking_store.create_run(experiment_id, start_time=1).info.run_id
        theirs = tracking_store.create_run(other, start_time=2).info.run_id
        tracking_store.create_run(third, start_time=3)
        assert set(search_ids(tracking_store, [experiment_id, other])) == {mine, theirs}
        assert search_ids(tracking_store, []) == []

    def test_run_view_types(self, tracking_store, experiment_id, zoo):
        tracking_store.delete_run(zoo["a"])
        tracking_store.delete_run(zoo["b"])
        everything = set(zoo.values())
        deleted = {zoo["a"], zoo["b"]}
        assert set(search_ids(tracking_store, [experiment_id])) == everything - deleted
        assert (
            set(search_ids(tracking_store, [experiment_id], view=ViewType.ACTIVE_ONLY))
            == everything - deleted
        )
        assert set(search_ids(tracking_store, [experiment_id], view=ViewType.DELETED_ONLY)) == deleted
        assert set(search_ids(tracking_store, [experiment_id], view=ViewType.ALL)) == everything
        found = search_ids(tracking_store, [experiment_id], "metrics.m >= 1", view=ViewType.DELETED_ONLY)
        assert set(found) == deleted

    def test_returned_runs_are_complete(self, tracking_store, experiment_id, zoo):
        [run] = tracking_store.search_runs([experiment_id], filter_string="run_name = 'alpha-run'").items
        assert run.info.run_id == zoo["a"]
        assert run.info.status == RunStatus.FINISHED and run.info.end_time == 5000
        assert run.data.params == ZOO["a"]["params"]
        assert run.data.metrics == ZOO["a"]["metrics"]
        assert run.data.tags["team"] == "ml"
        assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["train"]
