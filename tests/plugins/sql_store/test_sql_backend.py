"""Backend behaviour of the SQL store, on SQLite, PostgreSQL and MariaDB.

The conformance kit checks the TrackingStore contract; these tests look at
what only the SQL store does: the stored rows, the upserts that maintain
latest metrics, what a failed transaction leaves behind, and how many
statements the hot paths issue.
"""

from __future__ import annotations

import math
import random
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from headwater.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.validation import FLOAT_MAX
from headwater_store_sql.schema import latest_metrics, metrics, params, run_inputs, tags
from headwater_store_sql.schema import datasets as dataset_table

NAN = float("nan")


def point(key: str, value: float, timestamp: int = 0, step: int = 0) -> Metric:
    return Metric(key=key, value=value, timestamp=timestamp, step=step)


def rows(store, table: sa.Table, run_id: str) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).where(table.c.run_id == run_id))]


@contextmanager
def recorded_statements(store):
    """The SQL statements the store sends while the block runs (BEGIN excluded)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


@pytest.fixture
def run_id(store):
    return store.create_run("0", start_time=1).info.run_id


# -- latest metrics ------------------------------------------------------------------


def expected_latest(points: list[Metric]) -> tuple[int, int, float, bool]:
    """(step, timestamp, stored value, is_nan) of the first point with the greatest key."""
    best = None
    for p in points:
        stored = 0.0 if math.isnan(p.value) else p.value
        candidate = (p.step, p.timestamp, stored, math.isnan(p.value))
        if best is None or candidate[:3] > best[:3]:
            best = candidate
    return best


@pytest.mark.parametrize("path", ["log_metric", "log_batch"])
def test_latest_metric_is_the_greatest_step_timestamp_value(store, path):
    rng = random.Random(7)
    values = [-1.0, 0.0, 0.5, 2.0, NAN]
    for trial in range(12):
        run_id = store.create_run("0").info.run_id
        points = [
            point("m", rng.choice(values), timestamp=rng.randrange(3), step=rng.randrange(3)) for _ in range(10)
        ]
        if path == "log_metric":
            for p in points:
                store.log_metric(run_id, p)
        else:
            for chunk in (points[:4], points[4:]):
                store.log_batch(run_id, metrics=chunk)
        ((_, key, value, is_nan, timestamp, step),) = rows(store, latest_metrics, run_id)
        assert (step, timestamp, value, bool(is_nan)) == expected_latest(points), (trial, points)
        latest = store.get_run(run_id).data.latest_metrics[0]
        assert (latest.step, latest.timestamp) == (step, timestamp)
        assert math.isnan(latest.value) if is_nan else latest.value == value


def test_latest_metric_ties_and_each_tiebreaker(store, run_id):
    """Each column of (step, timestamp, value) decides on its own when the earlier ones tie."""
    store.log_metric(run_id, point("m", 5.0, timestamp=10, step=2))
    store.log_metric(run_id, point("m", 9.0, timestamp=99, step=1))  # lower step loses
    assert rows(store, latest_metrics, run_id)[0][2:] == (5.0, False, 10, 2)
    store.log_metric(run_id, point("m", 1.0, timestamp=11, step=2))  # same step, later time wins
    assert rows(store, latest_metrics, run_id)[0][2:] == (1.0, False, 11, 2)
    store.log_metric(run_id, point("m", 3.0, timestamp=11, step=2))  # same step and time, larger value
    assert rows(store, latest_metrics, run_id)[0][2:] == (3.0, False, 11, 2)
    store.log_metric(run_id, point("m", 2.0, timestamp=11, step=2))  # smaller value loses
    assert rows(store, latest_metrics, run_id)[0][2:] == (3.0, False, 11, 2)
    store.log_metric(run_id, point("m", NAN, timestamp=0, step=3))  # NaN at a higher step wins
    assert rows(store, latest_metrics, run_id)[0][2:] == (0.0, True, 0, 3)


# -- NaN and infinity ------------------------------------------------------------------


def test_nan_and_infinities_are_stored_as_mlflow_does(store, run_id):
    store.log_batch(run_id, metrics=[point("n", NAN, 1, 0), point("n", math.inf, 2, 1), point("n", -math.inf, 3, 2)])
    stored = sorted((r[2], r[3], r[4], bool(r[5])) for r in rows(store, metrics, run_id))
    assert stored == [(1, 0, 0.0, True), (2, 1, FLOAT_MAX, False), (3, 2, -FLOAT_MAX, False)]
    history = store.get_metric_history(run_id, "n").items
    assert math.isnan(history[0].value)
    assert [m.value for m in history[1:]] == [FLOAT_MAX, -FLOAT_MAX]
    assert store.get_run(run_id).data.metrics["n"] == -FLOAT_MAX


def test_identical_points_are_stored_once(store, run_id):
    store.log_metric(run_id, point("m", NAN, 5, 1))
    store.log_metric(run_id, point("m", NAN, 5, 1))
    store.log_batch(run_id, metrics=[point("m", 1.0, 5, 1), point("m", 1.0, 5, 1), point("m", NAN, 5, 1)])
    assert len(rows(store, metrics, run_id)) == 2


# -- search semantics the SQL has to get right ---------------------------------------------


@pytest.fixture
def five_runs(store):
    """a=1, b=2, e=+inf, c=NaN and d without the metric, as in the grammar spec."""
    exp_id = store.create_experiment("order")
    ids = {}
    for start, (name, value) in enumerate([("a", 1.0), ("b", 2.0), ("e", math.inf), ("c", NAN), ("d", None)]):
        run_id = store.create_run(exp_id, start_time=start, run_name=name).info.run_id
        ids[name] = run_id
        if value is not None:
            store.log_metric(run_id, point("m", value, 1, 0))
            store.log_param(run_id, Param(key="p", value=name))
    store.update_run_info(ids["b"], end_time=5)
    store.update_run_info(ids["a"], end_time=9)
    return exp_id, ids


def names_of(store, exp_id, ids, **kwargs) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[r.info.run_id] for r in store.search_runs([exp_id], **kwargs).items]


def test_order_by_metric_puts_nan_then_missing_last_both_ways(store, five_runs):
    exp_id, ids = five_runs
    assert names_of(store, exp_id, ids, order_by=["metrics.m ASC"]) == ["a", "b", "e", "c", "d"]
    assert names_of(store, exp_id, ids, order_by=["metrics.m DESC"]) == ["e", "b", "a", "c", "d"]


def test_order_by_param_and_end_time_put_missing_last_both_ways(store, five_runs):
    exp_id, ids = five_runs
    assert names_of(store, exp_id, ids, order_by=["params.p"]) == ["a", "b", "c", "e", "d"]
    assert names_of(store, exp_id, ids, order_by=["params.p DESC"]) == ["e", "c", "b", "a", "d"]
    # Runs without end_time follow, newest start first (the tie-breaker).
    assert names_of(store, exp_id, ids, order_by=["end_time"]) == ["b", "a", "d", "c", "e"]
    assert names_of(store, exp_id, ids, order_by=["end_time DESC"]) == ["a", "b", "d", "c", "e"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.m != 1", {"b", "e", "c"}),  # NaN differs from everything; d has no m
        ("metrics.m = 0", set()),  # the stored placeholder of NaN never matches
        ("metrics.m < 100", {"a", "b"}),
        ("metrics.m >= 2", {"b", "e"}),
        ("params.p IS NULL", {"d"}),
        ("params.p != 'a'", {"b", "c", "e"}),
    ],
)
def test_metric_and_param_filters(store, five_runs, filter_string, expected):
    exp_id, ids = five_runs
    assert set(names_of(store, exp_id, ids, filter_string=filter_string)) == expected


def test_string_comparisons_are_case_sensitive(store):
    exp_id = store.create_experiment("case")
    lower = store.create_run(exp_id, run_name="abc", tags=[RunTag(key="t", value="abc")]).info.run_id
    upper = store.create_run(exp_id, run_name="ABC", tags=[RunTag(key="t", value="ABC")]).info.run_id

    def found(filter_string):
        return {r.info.run_id for r in store.search_runs([exp_id], filter_string).items}

    assert found("tags.t = 'abc'") == {lower}
    assert found("tags.t != 'abc'") == {upper}
    assert found("tags.t LIKE 'a%'") == {lower}
    assert found("tags.t ILIKE 'a%'") == {lower, upper}
    assert found("run_name = 'ABC'") == {upper}
    assert found(f"run_id IN ('{lower.upper()}')") == set()
    assert found(f"run_id IN ('{lower}')") == {lower}


def test_experiment_names_are_case_and_space_sensitive(store):
    ids = {name: store.create_experiment(name) for name in ("Name", "name", "name ")}
    assert len(set(ids.values())) == 3
    for name, exp_id in ids.items():
        assert store.get_experiment_by_name(name).experiment_id == exp_id
    assert store.get_experiment_by_name("NAME") is None
    with pytest.raises(HeadwaterError) as info:
        store.create_experiment("name")
    assert info.value.error_code == ErrorCode.RESOURCE_ALREADY_EXISTS


# -- all or nothing ------------------------------------------------------------------------


def test_param_conflict_in_a_batch_writes_nothing(store, run_id):
    store.log_param(run_id, Param(key="p", value="1"))
    with pytest.raises(HeadwaterError) as info:
        store.log_batch(
            run_id,
            metrics=[point("m", 1.0)],
            params=[Param(key="new", value="x"), Param(key="p", value="2")],
            tags=[RunTag(key="t", value="v")],
        )
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
    assert rows(store, metrics, run_id) == [] and rows(store, latest_metrics, run_id) == []
    assert [r[1] for r in rows(store, params, run_id)] == ["p"]
    assert "t" not in {r[1] for r in rows(store, tags, run_id)}


def test_database_failure_late_in_a_batch_rolls_back_everything(store, run_id):
    def fail_on_tags(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*INSERT INTO tags\b", statement):
            raise RuntimeError("disk on fire")

    event.listen(store.engine, "before_cursor_execute", fail_on_tags)
    try:
        with pytest.raises(RuntimeError):
            store.log_batch(
                run_id,
                metrics=[point("m", float(i), i, i) for i in range(50)],
                params=[Param(key="p", value="1")],
                tags=[RunTag(key="t", value="v")],
            )
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_on_tags)
    assert rows(store, metrics, run_id) == [] and rows(store, latest_metrics, run_id) == []
    assert rows(store, params, run_id) == []
    store.log_batch(run_id, metrics=[point("m", 1.0)])  # the store still works afterwards
    assert len(rows(store, metrics, run_id)) == 1


# -- statements issued ----------------------------------------------------------------------


def test_log_metric_is_two_statements(store, run_id):
    store.log_metric(run_id, point("warm", 0.0))
    with recorded_statements(store) as seen:
        store.log_metric(run_id, point("m", 1.0, 1, 1))
    assert len(seen) == 2, seen


def test_log_batch_statement_count_does_not_grow_with_the_batch(store, run_id):
    def count(n: int, offset: int) -> int:
        with recorded_statements(store) as seen:
            store.log_batch(
                run_id,
                metrics=[point(f"m{i % 7}", float(i), offset + i, i) for i in range(n)],
                params=[Param(key=f"p{offset}-{i}", value="v") for i in range(min(n, 50))],
                tags=[RunTag(key=f"t{i}", value="v") for i in range(min(n, 50))],
            )
        # pymysql's executemany may split a very long multi-row INSERT; count distinct statements.
        return len(set(seen))

    assert count(10, 0) == count(800, 1000)


def test_search_loads_runs_in_a_fixed_number_of_queries_and_never_reads_history(store):
    exp_id = store.create_experiment("many")

    def make_runs(n):
        for i in range(n):
            run_id = store.create_run(exp_id, start_time=i).info.run_id
            store.log_batch(
                run_id, metrics=[point("m", float(i), 1, 0)], params=[Param(key="p", value=str(i))]
            )
        store.log_inputs(run_id, [DatasetInput(dataset=Dataset(name="d", digest="x", source_type="local", source="s"))])

    def queries():
        with recorded_statements(store) as seen:
            store.search_runs([exp_id], "metrics.m >= 0 and params.p != 'x'", order_by=["metrics.m DESC"])
        return seen

    make_runs(3)
    few = queries()
    make_runs(30)
    many = queries()
    assert len(few) == len(many) <= 5
    assert not any(re.search(r"(?<!latest_)\bmetrics\b", sql) for sql in many)


# -- metric history bulk interval -----------------------------------------------------------------


def test_bulk_interval_samples_each_run_and_keeps_the_ends(store):
    first = store.create_run("0").info.run_id
    second = store.create_run("0").info.run_id
    store.log_batch(first, metrics=[point("m", float(s), 100 + s, s) for s in range(20)])
    store.log_batch(second, metrics=[point("m", float(s), 100 + s, s) for s in range(3)])
    got = store.get_metric_history_bulk_interval([first, second], "m", max_results=5)
    first_steps = [m.step for m in got if m.run_id == first]
    assert len(first_steps) == 5 and first_steps[0] == 0 and first_steps[-1] == 19
    assert [m.step for m in got if m.run_id == second] == [0, 1, 2]
    ranged = store.get_metric_history_bulk_interval([first], "m", max_results=100, start_step=5, end_step=7)
    assert [(m.step, m.run_id) for m in ranged] == [(5, first), (6, first), (7, first)]


# -- dataset inputs ---------------------------------------------------------------------------


def test_dataset_inputs_are_shared_per_experiment_and_filterable(store):
    exp_id = store.create_experiment("data")
    train = Dataset(name="train", digest="d1", source_type="local", source="/data/train")
    evaluation = Dataset(name="eval", digest="d2", source_type="local", source="/data/eval", schema='{"a": 1}')
    context = [InputTag(key="mlflow.data.context", value="training")]
    one = store.create_run(exp_id).info.run_id
    two = store.create_run(exp_id).info.run_id
    store.log_inputs(one, [DatasetInput(dataset=train, tags=context), DatasetInput(dataset=evaluation)])
    store.log_inputs(one, [DatasetInput(dataset=train, tags=context)])  # already linked: no change
    store.log_inputs(two, [DatasetInput(dataset=train)])

    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dataset_table)).scalar() == 2
    assert len(rows(store, run_inputs, one)) == 2

    inputs = store.get_run(one).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.schema_) for i in inputs] == [("train", None), ("eval", '{"a": 1}')]
    assert inputs[0].tags == context

    def found(filter_string):
        return {r.info.run_id for r in store.search_runs([exp_id], filter_string).items}

    assert found("datasets.name = 'train'") == {one, two}
    assert found("datasets.digest IN ('d2')") == {one}
    assert found("datasets.context = 'training'") == {one}
    assert found("datasets.name LIKE 'TR%'") == set()
