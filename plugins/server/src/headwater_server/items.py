"""Repeated request items (metrics, params, tags) as entities.

``log-batch`` carries up to a thousand of them, so well-typed items (what the
Python client sends: numbers as numbers, snake_case keys) take a fast path of
plain type checks; anything else (R's strings, camelCase, errors) goes through
the general coercions of :mod:`headwater_server.wire` one item at a time.
"""

from __future__ import annotations

from typing import Any

from headwater.entities import Metric, Param, RunTag

from headwater_server.wire import Params, as_list, as_object

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_METRIC_KEYS = frozenset(("key", "value", "timestamp", "step"))
_PAIR_KEYS = frozenset(("key", "value"))


def metric(m: Params, run_id: str | None = None) -> Metric:
    return Metric(
        key=m.text("key", required=True),
        value=m.number("value", required=True),
        timestamp=m.integer("timestamp", required=True),
        step=m.integer("step", default=0),
        run_id=run_id,
        model_id=m.text("model_id") or None,
        dataset_name=m.text("dataset_name") or None,
        dataset_digest=m.text("dataset_digest") or None,
    )


def _fast_metric(item: Any) -> Metric | None:
    if type(item) is not dict or not item.keys() <= _METRIC_KEYS:
        return None
    key, value, timestamp, step = item.get("key"), item.get("value"), item.get("timestamp"), item.get("step", 0)
    if (
        type(key) is str
        and key
        and (type(value) is float or (type(value) is int and _INT64_MIN <= value <= _INT64_MAX))
        and type(timestamp) is int
        and type(step) is int
        and _INT64_MIN <= timestamp <= _INT64_MAX
        and _INT64_MIN <= step <= _INT64_MAX
    ):
        return Metric(key=key, value=float(value), timestamp=timestamp, step=step)
    return None


def metrics(p: Params, name: str = "metrics") -> list[Metric]:
    path = p.prefix + name
    out = []
    for i, item in enumerate(as_list(p.data.get(name), path)):
        out.append(_fast_metric(item) or metric(as_object(item, f"{path}[{i}]")))
    return out


def _pairs(p: Params, name: str) -> list[tuple[str, str]]:
    path = p.prefix + name
    out = []
    for i, item in enumerate(as_list(p.data.get(name), path)):
        if type(item) is dict and item.keys() <= _PAIR_KEYS:
            key, value = item.get("key"), item.get("value")
            if type(key) is str and key and (value is None or type(value) is str):
                out.append((key, value or ""))
                continue
        pair = as_object(item, f"{path}[{i}]")
        out.append((pair.text("key", required=True), pair.text("value") or ""))  # type: ignore[arg-type]
    return out


def params(p: Params, name: str = "params") -> list[Param]:
    return [Param(key=k, value=v) for k, v in _pairs(p, name)]


def tags(p: Params, name: str = "tags") -> list[RunTag]:
    return [RunTag(key=k, value=v) for k, v in _pairs(p, name)]
