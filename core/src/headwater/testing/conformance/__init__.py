"""The tracking-store conformance kit: one test class per area, combined.

Subclass :class:`TrackingStoreConformance` and override the ``tracking_store``
fixture with one returning a *fresh* store that holds only the default
experiment. To run one area only, subclass that area's class instead (e.g.
:class:`BatchConformance`). A store that deliberately differs can override a
single test method with one that calls ``pytest.skip(reason)``.
"""

from __future__ import annotations

from headwater.testing.conformance.base import StoreConformanceBase, raises_code
from headwater.testing.conformance.batch import BatchConformance
from headwater.testing.conformance.browsing import BrowsingConformance
from headwater.testing.conformance.concurrency import ConcurrencyConformance
from headwater.testing.conformance.experiments import ExperimentConformance
from headwater.testing.conformance.lifecycle import LifecycleConformance
from headwater.testing.conformance.logged_models import LoggedModelConformance
from headwater.testing.conformance.metrics_params import MetricParamConformance
from headwater.testing.conformance.pagination import PaginationConformance
from headwater.testing.conformance.runs import RunConformance
from headwater.testing.conformance.search_experiments import SearchExperimentsConformance
from headwater.testing.conformance.search_runs_filters import SearchRunsFilterConformance
from headwater.testing.conformance.search_runs_order import SearchRunsOrderConformance


class TrackingStoreConformance(
    ExperimentConformance,
    RunConformance,
    MetricParamConformance,
    BatchConformance,
    SearchRunsFilterConformance,
    SearchRunsOrderConformance,
    SearchExperimentsConformance,
    PaginationConformance,
    LifecycleConformance,
    ConcurrencyConformance,
    BrowsingConformance,
    LoggedModelConformance,
):
    """Every conformance test of every area against the ``tracking_store`` fixture."""


__all__ = [
    "BatchConformance",
    "BrowsingConformance",
    "ConcurrencyConformance",
    "ExperimentConformance",
    "LifecycleConformance",
    "LoggedModelConformance",
    "MetricParamConformance",
    "PaginationConformance",
    "RunConformance",
    "SearchExperimentsConformance",
    "SearchRunsFilterConformance",
    "SearchRunsOrderConformance",
    "StoreConformanceBase",
    "TrackingStoreConformance",
    "raises_code",
]
