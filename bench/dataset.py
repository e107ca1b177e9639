"""The data every benchmark seeds, the same for every system.

Runs of the search workloads: 3 params, 3 metrics and 2 tags each, drawn from a
fixed random seed, so ``metrics.acc > 0.5 and params.opt = 'adam'`` matches the
same runs (about a sixth of them) on every system. The history run holds one
metric key with one point per step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEARCH_EXPERIMENT = "bench-search"
HISTORY_EXPERIMENT = "bench-history"
HISTORY_KEY = "loss"
SEARCH_FILTER = "metrics.acc > 0.5 and params.opt = 'adam'"
SEARCH_ORDER_BY = ["metrics.acc DESC"]
SEARCH_PAGE = 100
PAGING_PAGE = 1000  # max_results when paging through every run (MLflow's client default)
START_TIME = 1_700_000_000_000
RUN_NAME_TAG = "mlflow.runName"


@dataclass(frozen=True)
class RunSpec:
    name: str
    start_time: int
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def search_runs(count: int, seed: int = 42) -> list[RunSpec]:
    rng = random.Random(seed)
    specs = []
    for i in range(count):
        start = START_TIME + i * 1000
        specs.append(
            RunSpec(
                name=f"run-{i:05d}",
                start_time=start,
                params={
                    "opt": rng.choice(["adam", "sgd", "rmsprop"]),
                    "lr": rng.choice(["0.1", "0.01", "0.001"]),
                    "batch_size": rng.choice(["16", "32", "64", "128"]),
                },
                metrics={"acc": rng.random(), "loss": rng.random() * 2, "f1": rng.random()},
                tags={"team": rng.choice(["vision", "nlp", "tabular"]), "stage": rng.choice(["dev", "prod"])},
            )
        )
    return specs


def expected_matches(specs: list[RunSpec]) -> int:
    """How many runs the search filter selects (to check every system answers alike)."""
    return sum(1 for s in specs if s.metrics["acc"] > 0.5 and s.params["opt"] == "adam")


def history_points(count: int) -> list[tuple[float, int, int]]:
    """(value, timestamp, step) of the history run."""
    return [(1.0 / (step + 1), START_TIME + step, step) for step in range(count)]


def fresh_points(key: str, count: int, first_step: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp, step) points never logged before (distinct steps)."""
    return [(key, 0.5 + (s % 97) / 1000, START_TIME + s, s) for s in range(first_step, first_step + count)]
