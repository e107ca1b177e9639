"""Runs as a pandas DataFrame, column for column as MLflow's ``search_runs`` returns them.

pandas is optional (``pip install 'headwater[pandas]'``) and imported only here.
"""

from __future__ import annotations

from typing import Any, Sequence

from headwater.entities import Run


def require_pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "search_runs(output_format='pandas') needs pandas: install it with"
            " `pip install 'headwater[pandas]'`, or pass output_format='list'."
        ) from exc
    return pandas


def runs_to_dataframe(runs: Sequence[Run]) -> Any:
    """One row per run: info columns, then ``metrics.*``, ``params.*`` and ``tags.*`` (sorted).

    Missing metrics are NaN, missing params and tags None; times are UTC timestamps.
    """
    pd = require_pandas()
    metric_keys = sorted({k for run in runs for k in run.data.metrics})
    param_keys = sorted({k for run in runs for k in run.data.params})
    tag_keys = sorted({k for run in runs for k in run.data.tags})

    def when(ms: int | None) -> Any:
        return pd.to_datetime(ms, unit="ms", utc=True) if ms is not None else pd.NaT

    columns: dict[str, list[Any]] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [r.info.status.value for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": [when(r.info.start_time) for r in runs],
        "end_time": [when(r.info.end_time) for r in runs],
    }
    latest = [r.data.metrics for r in runs]  # a property that builds a dict: build it once per run
    for key in metric_keys:
        columns[f"metrics.{key}"] = [m.get(key, float("nan")) for m in latest]
    for key in param_keys:
        columns[f"params.{key}"] = [r.data.params.get(key) for r in runs]
    for key in tag_keys:
        columns[f"tags.{key}"] = [r.data.tags.get(key) for r in runs]
    frame = pd.DataFrame(columns)
    for name in ("start_time", "end_time"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame
