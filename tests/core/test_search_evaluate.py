"""The Python evaluator: same matching and ordering semantics as the SQL store."""

from __future__ import annotations

import math

import pytest

from headwater.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
)
from headwater.search import parse_filter, parse_order_by
from headwater.search.evaluate import matches_experiment, matches_run, sort_experiments, sort_runs


def make_run(
    run_id: str,
    *,
    start_time: int | None = 1000,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    datasets: list[tuple[str, str, str | None]] = (),
    **info,
) -> Run:
    inputs = [
        DatasetInput(
            dataset=Dataset(name=name, digest=digest, source_type="local", source="/d"),
            tags=[InputTag(key="mlflow.data.context", value=context)] if context else [],
        )
        for name, digest, context in datasets
    ]
    return Run(
        info=RunInfo(run_id=run_id, experiment_id="0", start_time=start_time, **info),
        data=RunData(
            latest_metrics=[Metric(key=k, value=v, timestamp=1) for k, v in (metrics or {}).items()],
            params=params or {},
            tags=tags or {},
        ),
        inputs=RunInputs(dataset_inputs=inputs),
    )


def select(runs: list[Run], filter_string: str) -> list[str]:
    comparisons = parse_filter(filter_string, "runs")
    return sorted(r.info.run_id for r in runs if matches_run(r, comparisons))


def order(runs: list[Run], *order_by: str) -> list[str]:
    return [r.info.run_id for r in sort_runs(runs, parse_order_by(list(order_by), "runs"))]


METRIC_RUNS = [
    make_run("a", metrics={"m": 1.0}),
    make_run("b", metrics={"m": 2.0}),
    make_run("e", metrics={"m": math.inf}),
    make_run("c", metrics={"m": math.nan}),
    make_run("d"),
]


# -- metrics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("metrics.m = 1", ["a"]),
        ("metrics.m != 1", ["b", "c", "e"]),  # NaN satisfies !=, the run without m does not
        ("metrics.m > 1", ["b", "e"]),
        ("metrics.m >= 1", ["a", "b", "e"]),
        ("metrics.m < 2", ["a"]),
        ("metrics.m <= 2.0", ["a", "b"]),
        ("metrics.other > -1e9", []),
    ],
)
def test_metric_comparisons(filter_string, expected):
    assert select(METRIC_RUNS, filter_string) == expected


def test_metric_compares_against_the_latest_value():
    run = make_run("r")
    run.data.latest_metrics.append(Metric(key="loss", value=0.25, timestamp=5, step=3))
    assert select([run], "metrics.loss < 0.3") == ["r"]
    assert select([run], "metrics.loss > 0.3") == []


# -- params and tags ----------------------------------------------------------------


PARAM_RUNS = [
    make_run("x", params={"model": "Ridge"}, tags={"team": "ml"}),
    make_run("y", params={"model": "ridge_v2"}),
    make_run("z"),
]


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("params.model = 'Ridge'", ["x"]),
        ("params.model = 'ridge'", []),  # = is case-sensitive
        ("params.model != 'Ridge'", ["y"]),  # runs without the param never match
        ("params.model LIKE 'ridge%'", ["y"]),  # LIKE is case-sensitive
        ("params.model ILIKE 'ridge%'", ["x", "y"]),
        ("params.model LIKE 'R_dge'", ["x"]),
        ("params.model LIKE '%_v_'", ["y"]),
        ("params.model IS NULL", ["z"]),
        ("params.model IS NOT NULL", ["x", "y"]),
        ("tags.team IS NULL", ["y", "z"]),
        ("tags.team = 'ml' and params.model ILIKE 'RIDGE'", ["x"]),
    ],
)
def test_param_and_tag_comparisons(filter_string, expected):
    assert select(PARAM_RUNS, filter_string) == expected


def test_like_treats_regex_characters_literally():
    runs = [make_run("p", params={"p": "a.b*c"}), make_run("q", params={"p": "axbbc"})]
    assert select(runs, "params.p LIKE 'a.b*c'") == ["p"]
    assert select(runs, "params.p LIKE 'a%c'") == ["p", "q"]


# -- attributes ---------------------------------------------------------------------


ATTRIBUTE_RUNS = [
    make_run("r1", start_time=100, end_time=200, status=RunStatus.FINISHED, user_id="ana",
             run_name="first", tags={"mlflow.runName": "first"}),
    make_run("r2", start_time=300, status=RunStatus.RUNNING, user_id="bo", run_name="second",
             tags={"mlflow.runName": "second"}),
    make_run("r3", start_time=None, status=RunStatus.FAILED, run_name="third"),
]


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("status = 'FINISHED'", ["r1"]),
        ("attributes.status != 'FINISHED'", ["r2", "r3"]),
        ("start_time >= 100", ["r1", "r2"]),  # a missing start time never matches
        ("created > 150", ["r2"]),
        ("start_time > 99.5", ["r1", "r2"]),
        ("end_time < 1000", ["r1"]),
        ("run_name LIKE '%d'", ["r2", "r3"]),
        ("`Run Name` = 'first'", ["r1"]),
        ("run_id IN ('r1', 'r3')", ["r1", "r3"]),
        ("run_id NOT IN ('r1', 'r3')", ["r2"]),
        ("user_id ILIKE 'ANA'", ["r1"]),
    ],
)
def test_attribute_comparisons(filter_string, expected):
    assert select(ATTRIBUTE_RUNS, filter_string) == expected


def test_run_name_is_answered_by_the_run_name_tag():
    run = make_run("t", run_name="info-name", tags={"mlflow.runName": "tag-name"})
    assert select([run], "run_name = 'tag-name'") == ["t"]


# -- datasets --------------------------------------------------------------------------


DATASET_RUNS = [
    make_run("d1", datasets=[("train", "abc", "training"), ("eval", "def", "evaluation")]),
    make_run("d2", datasets=[("train", "123", None)]),
    make_run("d3"),
]


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("datasets.name = 'train'", ["d1", "d2"]),
        ("datasets.name = 'eval'", ["d1"]),
        ("datasets.digest IN ('123', 'zzz')", ["d2"]),
        ("datasets.context = 'training'", ["d1"]),
        ("datasets.context IN ('training')", ["d1"]),
        ("datasets.name = 'train' and datasets.context LIKE 'eval%'", ["d1"]),
        ("dataset.name LIKE 'tr%'", ["d1", "d2"]),
    ],
)
def test_dataset_comparisons(filter_string, expected):
    assert select(DATASET_RUNS, filter_string) == expected


# -- ordering runs ----------------------------------------------------------------------


def test_missing_and_nan_metrics_sort_last_in_both_directions():
    assert order(METRIC_RUNS, "metrics.m ASC") == ["a", "b", "e", "c", "d"]
    assert order(METRIC_RUNS, "metrics.m DESC") == ["e", "b", "a", "c", "d"]


def test_params_sort_as_strings_with_missing_last():
    runs = [make_run("p10", params={"n": "10"}), make_run("p9", params={"n": "9"}), make_run("p0")]
    assert order(runs, "params.n") == ["p10", "p9", "p0"]
    assert order(runs, "params.n DESC") == ["p9", "p10", "p0"]


def test_default_order_is_start_time_desc_then_run_id():
    runs = [
        make_run("b", start_time=5),
        make_run("a", start_time=5),
        make_run("c", start_time=9),
        make_run("n", start_time=None),
    ]
    assert order(runs) == ["c", "a", "b", "n"]


def test_start_time_desc_then_run_id_break_ties():
    runs = [
        make_run("b", start_time=1, tags={"t": "x"}),
        make_run("a", start_time=1, tags={"t": "x"}),
        make_run("c", start_time=2, tags={"t": "x"}),
    ]
    assert order(runs, "tags.t") == ["c", "a", "b"]
    # Naming start_time replaces the start_time tie-breaker; run_id still breaks ties.
    assert order(runs, "start_time") == ["a", "b", "c"]


def test_multiple_order_keys_apply_left_to_right():
    runs = [
        make_run("r1", metrics={"acc": 0.9}, params={"lr": "0.1"}),
        make_run("r2", metrics={"acc": 0.8}, params={"lr": "0.1"}),
        make_run("r3", metrics={"acc": 0.7}, params={"lr": "0.01"}),
    ]
    assert order(runs, "params.lr DESC", "metrics.acc ASC") == ["r2", "r1", "r3"]


def test_order_by_status_and_run_name():
    assert order(ATTRIBUTE_RUNS, "status") == ["r3", "r1", "r2"]
    assert order(ATTRIBUTE_RUNS, "run_name DESC") == ["r3", "r2", "r1"]


# -- experiments -------------------------------------------------------------------------


def make_experiment(experiment_id: str, name: str, created: int | None, updated: int | None = None, **tags):
    return Experiment(
        experiment_id=experiment_id,
        name=name,
        artifact_location=f"/a/{experiment_id}",
        creation_time=created,
        last_update_time=updated,
        tags=tags,
    )


EXPERIMENTS = [
    make_experiment("1", "proj-alpha", 100, 500, owner="ana"),
    make_experiment("2", "proj-beta", 300, 400, owner="bo"),
    make_experiment("10", "Other", 300, None),
    make_experiment("3", "PROJ-gamma", None, 100),
]


def pick(filter_string: str) -> list[str]:
    comparisons = parse_filter(filter_string, "experiments")
    return sorted((e.experiment_id for e in EXPERIMENTS if matches_experiment(e, comparisons)), key=int)


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("name LIKE 'proj-%' and tags.owner = 'ana' and creation_time > 50", ["1"]),
        ("name LIKE 'proj-%'", ["1", "2"]),
        ("name ILIKE 'proj-%'", ["1", "2", "3"]),
        ("attributes.name != 'Other'", ["1", "2", "3"]),
        ("creation_time >= 300", ["2", "10"]),
        ("last_update_time < 450", ["2", "3"]),
        ("experiment_id = '10'", ["10"]),
        ("experiment_id IN ('1', '3')", ["1", "3"]),
        ("experiment_id NOT IN ('1', '3')", ["2", "10"]),
        ("tags.owner IS NULL", ["3", "10"]),
        ("tags.owner IS NOT NULL", ["1", "2"]),
        ("tags.owner != 'ana'", ["2"]),
    ],
)
def test_experiment_filters(filter_string, expected):
    assert pick(filter_string) == expected


def sort_ids(*order_by: str) -> list[str]:
    keys = parse_order_by(list(order_by), "experiments")
    return [e.experiment_id for e in sort_experiments(EXPERIMENTS, keys)]


def test_experiments_default_order():
    # creation_time DESC (missing last), experiment_id ASC as the tie-breaker.
    assert sort_ids() == ["2", "10", "1", "3"]


def test_experiments_tie_breaker_is_experiment_id_desc_when_not_named():
    assert sort_ids("creation_time DESC") == ["10", "2", "1", "3"]
    assert sort_ids("creation_time ASC") == ["1", "10", "2", "3"]


def test_experiments_order_by_name_and_id():
    assert sort_ids("name") == ["10", "3", "1", "2"]  # binary order: "O" < "P" < "p"
    assert sort_ids("experiment_id DESC") == ["10", "3", "2", "1"]  # ids sort as numbers
    assert sort_ids("last_update_time DESC") == ["1", "2", "3", "10"]
