"""Apply parsed filters and order keys in Python, for stores without SQL.

Same semantics as the SQL store (see the search-grammar spec):

- metrics compare against their latest value; NaN satisfies only ``!=``;
- a missing metric, param, tag or attribute never matches, except that
  ``IS NULL`` selects params/tags that are absent;
- LIKE is case-sensitive, ILIKE is not; ``%`` and ``_`` are the wildcards;
- when sorting, real values come first in the requested direction, then NaN,
  then missing values, whichever the direction.
"""

from __future__ import annotations

import math
import operator
import re
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence, TypeVar

from headwater.entities import Experiment, Run
from headwater.search.ast import Comparison, OrderKey

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"

_MISSING = object()
_ORDERED = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

T = TypeVar("T")


@lru_cache(maxsize=256)
def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def compare(lhs: Any, op: str, value: Any) -> bool:
    """``lhs op value`` for a present value (``lhs`` is never missing here)."""
    if isinstance(lhs, float) and math.isnan(lhs):
        return op == "!="
    if op in _ORDERED:
        return _ORDERED[op](lhs, value)
    if op in ("LIKE", "ILIKE"):
        return _like_regex(value, op == "ILIKE").fullmatch(lhs) is not None
    if op == "IN":
        return lhs in value
    if op == "NOT IN":
        return lhs not in value
    raise ValueError(f"Unsupported operator {op!r}")


def _matches(lhs: Any, comparison: Comparison) -> bool:
    if comparison.op == "IS NULL":
        return lhs is _MISSING
    if comparison.op == "IS NOT NULL":
        return lhs is not _MISSING
    if lhs is _MISSING or lhs is None:
        return False
    return compare(lhs, comparison.op, comparison.value)


# -- runs -----------------------------------------------------------------------


def _run_attribute(run: Run, key: str) -> Any:
    if key == "run_name":
        return run.data.tags.get(RUN_NAME_TAG, run.info.run_name)
    if key == "status":
        return getattr(run.info.status, "value", run.info.status)
    return getattr(run.info, key)


def _run_value(run: Run, entity: str, key: str) -> Any:
    if entity == "metric":
        return run.data.metrics.get(key, _MISSING)
    if entity == "param":
        return run.data.params.get(key, _MISSING)
    if entity == "tag":
        return run.data.tags.get(key, _MISSING)
    if entity == "attribute":
        return _run_attribute(run, key)
    raise ValueError(f"Cannot read {entity} {key!r} of a run")


def _dataset_values(run: Run, key: str) -> Iterable[str]:
    for dataset_input in run.inputs.dataset_inputs:
        if key == "context":
            yield from (t.value for t in dataset_input.tags if t.key == DATASET_CONTEXT_TAG)
        else:
            yield getattr(dataset_input.dataset, key)


def matches_run(run: Run, comparisons: Sequence[Comparison]) -> bool:
    """True if ``run`` satisfies every comparison (they are AND-ed)."""
    for c in comparisons:
        if c.entity == "dataset":
            if not any(_matches(v, c) for v in _dataset_values(run, c.key)):
                return False
        elif not _matches(_run_value(run, c.entity, c.key), c):
            return False
    return True


def sort_runs(runs: Iterable[Run], order_keys: Sequence[OrderKey]) -> list[Run]:
    """Runs in ``order_keys`` order, then ``start_time DESC`` (unless named), then ``run_id``."""
    keys = list(order_keys)
    if not any(k.entity == "attribute" and k.key == "start_time" for k in keys):
        keys.append(OrderKey("attribute", "start_time", ascending=False))
    keys.append(OrderKey("attribute", "run_id", ascending=True))
    return _sort(runs, keys, lambda run, k: _run_value(run, k.entity, k.key))


# -- experiments ----------------------------------------------------------------


def _experiment_value(experiment: Experiment, entity: str, key: str) -> Any:
    if entity == "tag":
        return experiment.tags.get(key, _MISSING)
    if key == "experiment_id":
        # Experiment ids are integers in the SQL store; compare and sort them as such.
        return _as_int(experiment.experiment_id)
    return getattr(experiment, key)


def _as_int(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def matches_experiment(experiment: Experiment, comparisons: Sequence[Comparison]) -> bool:
    """True if ``experiment`` satisfies every comparison (they are AND-ed)."""
    for c in comparisons:
        lhs = _experiment_value(experiment, c.entity, c.key)
        if c.key == "experiment_id" and c.entity == "attribute":
            value = tuple(map(_as_int, c.value)) if isinstance(c.value, tuple) else _as_int(c.value)
            c = Comparison(c.entity, c.key, c.op, value, c.position)
        if not _matches(lhs, c):
            return False
    return True


def sort_experiments(experiments: Iterable[Experiment], order_keys: Sequence[OrderKey]) -> list[Experiment]:
    """Default ``creation_time DESC, experiment_id ASC``; else ``experiment_id DESC`` breaks ties."""
    keys = list(order_keys)
    if not keys:
        keys = [OrderKey("attribute", "creation_time", False), OrderKey("attribute", "experiment_id")]
    elif not any(k.key == "experiment_id" for k in keys):
        keys.append(OrderKey("attribute", "experiment_id", ascending=False))
    return _sort(experiments, keys, lambda e, k: _experiment_value(e, k.entity, k.key))


# -- sorting --------------------------------------------------------------------


def _sort(items: Iterable[T], keys: Sequence[OrderKey], value_of: Callable[[T, OrderKey], Any]) -> list[T]:
    """Stable sort by ``keys``, the last key first; NaN and missing values go last."""
    ordered = list(items)
    for key in reversed(keys):
        present, nans, missing = [], [], []
        for item in ordered:
            value = value_of(item, key)
            if value is _MISSING or value is None:
                missing.append(item)
            elif isinstance(value, float) and math.isnan(value):
                nans.append(item)
            else:
                present.append((value, item))
        # reverse=True keeps equal items in their previous order, so passes compose.
        present.sort(key=lambda pair: pair[0], reverse=not key.ascending)
        ordered = [item for _, item in present] + nans + missing
    return ordered
