"""What every conformance module shares: the fixture to override and small helpers."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from headwater.entities import Metric, Param, Run, RunTag, ViewType
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.tracking import TrackingStore

RUN_NAME_TAG = "mlflow.runName"


class StoreConformanceBase:
    """Fixtures used by every conformance test. Override ``tracking_store``."""

    @pytest.fixture
    def tracking_store(self) -> TrackingStore:
        pytest.fail(
            "Override the `tracking_store` fixture in your TrackingStoreConformance subclass:"
            " it must return a fresh store holding only the default experiment."
        )

    @pytest.fixture
    def experiment_id(self, tracking_store: TrackingStore) -> str:
        """A new, empty experiment, so tests never see each other's runs."""
        return tracking_store.create_experiment(unique_name("exp"))

    @pytest.fixture
    def run_id(self, tracking_store: TrackingStore, experiment_id: str) -> str:
        return tracking_store.create_run(experiment_id, user_id="tester", start_time=now_ms()).info.run_id


@contextmanager
def raises_code(code: ErrorCode) -> Iterator[pytest.ExceptionInfo[HeadwaterError]]:
    """Expect a HeadwaterError carrying exactly ``code``."""
    with pytest.raises(HeadwaterError) as info:
        yield info
    assert info.value.error_code == code, (
        f"expected error code {code.value}, got {info.value.error_code}: {info.value.message}"
    )


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def metric(key: str, value: float, timestamp: int = 1000, step: int = 0) -> Metric:
    return Metric(key=key, value=value, timestamp=timestamp, step=step)


def param(key: str, value: str) -> Param:
    return Param(key=key, value=value)


def tag(key: str, value: str) -> RunTag:
    return RunTag(key=key, value=value)


def history(store: TrackingStore, run_id: str, key: str) -> list[tuple[int, int, float]]:
    """A metric's history as (timestamp, step, value) in the order the store returns it."""
    return [(m.timestamp, m.step, m.value) for m in store.get_metric_history(run_id, key).items]


def latest(run: Run, key: str) -> Metric:
    matches = [m for m in run.data.latest_metrics if m.key == key]
    assert len(matches) == 1, f"expected one latest value for {key!r}, got {matches}"
    return matches[0]


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def run_ids(runs: Sequence[Run]) -> list[str]:
    return [r.info.run_id for r in runs]


def search_ids(
    store: TrackingStore,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    view: ViewType = ViewType.ACTIVE_ONLY,
) -> list[str]:
    """Run ids of one search, in the order the store returns them."""
    page = store.search_runs(
        list(experiment_ids), filter_string=filter_string, run_view_type=view, order_by=order_by
    )
    return run_ids(page.items)


def assert_run_is_empty(store: TrackingStore, run_id: str, metric_keys: Sequence[str] = ()) -> None:
    """Nothing but the system tags is logged to the run."""
    run = store.get_run(run_id)
    assert run.data.latest_metrics == []
    assert run.data.params == {}
    user_tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    assert user_tags == {}
    for key in metric_keys:
        assert store.get_metric_history(run_id, key).items == []
