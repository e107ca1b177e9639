"""Summaries that stores compute for browsing: downsampled metric histories and key lists.

They let a UI draw a metric of a million points, or offer the columns of an
experiment with a hundred thousand runs, without moving every row.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_FROZEN = ConfigDict(frozen=True)


class MetricBucket(BaseModel):
    """The points of one metric whose x (step or timestamp) falls in one range.

    ``min`` and ``max`` ignore NaN points (both are NaN when every point is),
    so a spike stays visible however many points share its bucket. A bucket
    of one point is that point: ``x_first == x_last`` and ``min == max``.
    """

    model_config = _FROZEN
    x_first: int
    x_last: int
    min: float
    max: float
    count: int


class RunKeys(BaseModel):
    """The distinct param, metric and tag keys of the runs of some experiments, sorted."""

    model_config = _FROZEN
    params: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
