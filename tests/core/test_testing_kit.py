"""headwater.testing: the plugin-author fixtures and the conformance kit itself.

The kit is checked the way mutation testing would: stores that each break one
rule of the contract must fail the tests written for that rule, while the
unbroken store passes them.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from abc import ABC

import headwater.testing.conformance as kit
import pytest
from headwater.exceptions import ErrorCode, HeadwaterError, PluginError
from headwater.plugins import hookimpl
from headwater.plugins.types import TrackingStoreProvider
from headwater.store.tracking import TrackingStore
from headwater.testing import TrackingStoreConformance

pytest_plugins = ["pytester"]

AREAS = [
    kit.ExperimentConformance,
    kit.RunConformance,
    kit.MetricParamConformance,
    kit.BatchConformance,
    kit.SearchRunsFilterConformance,
    kit.SearchRunsOrderConformance,
    kit.SearchExperimentsConformance,
    kit.PaginationConformance,
    kit.LifecycleConformance,
    kit.ConcurrencyConformance,
    kit.BrowsingConformance,
    kit.LoggedModelConformance,
]


class FakeStorePlugin:
    """A throwaway plugin offering a store for ``fake://`` URIs."""

    @staticmethod
    @hookimpl
    def headwater_tracking_stores():
        yield TrackingStoreProvider(
            name="fake", schemes=("fake",), factory=lambda uri, root: ("fake", uri, root)
        )


class UnknownHookPlugin:
    @staticmethod
    @hookimpl
    def headwater_no_such_hook():
        return []


# -- fixtures for plugin authors ----------------------------------------------------------


def test_plugin_manager_fixture_loads_no_installed_plugins(headwater_plugin_manager):
    assert "sql_store" not in headwater_plugin_manager.records
    with pytest.raises(PluginError, match="sqlite"):
        headwater_plugin_manager.tracking_store("sqlite:///x.db")


def test_registered_plugin_provides_its_store(headwater_plugin_manager, register_headwater_plugin):
    record = register_headwater_plugin(FakeStorePlugin)
    assert (record.status, record.name) == ("active", "test-FakeStorePlugin")
    assert headwater_plugin_manager.tracking_store("fake://x", "/art") == ("fake", "fake://x", "/art")


def test_registering_a_broken_plugin_reports_why(register_headwater_plugin):
    record = register_headwater_plugin(UnknownHookPlugin, name="broken")
    assert record.status == "failed"
    assert "headwater_no_such_hook" in record.error


def test_registered_plugin_is_gone_after_the_test(pytester):
    pytester.makepyfile(
        """
        from headwater.plugins import hookimpl
        from headwater.plugins.types import TrackingStoreProvider

        class Plugin:
            @staticmethod
            @hookimpl
            def headwater_tracking_stores():
                yield TrackingStoreProvider(name="f", schemes=("f",), factory=lambda uri, root: uri)

        seen = {}

        def test_register(headwater_plugin_manager, register_headwater_plugin):
            register_headwater_plugin(Plugin, name="throwaway")
            seen["manager"] = headwater_plugin_manager
            assert headwater_plugin_manager.pm.is_registered(Plugin)

        def test_unregistered_at_teardown():
            manager = seen["manager"]
            assert not manager.pm.is_registered(Plugin)
            assert "throwaway" not in manager.records
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


# -- the kit's structure ------------------------------------------------------------------


def _own_tests(cls) -> set[str]:
    return {name for name in vars(cls) if name.startswith("test_")}


def test_no_area_hides_another_areas_test():
    # With multiple inheritance a test name defined twice would silently run once.
    seen: dict[str, str] = {}
    for area in AREAS:
        for name in _own_tests(area):
            assert name not in seen, f"{name} is defined in {seen.get(name)} and {area.__name__}"
            seen[name] = area.__name__
    combined = {name for name in dir(TrackingStoreConformance) if name.startswith("test_")}
    assert combined == set(seen)


def test_every_store_method_is_exercised():
    source = "\n".join(inspect.getsource(module) for module in _kit_modules())
    contract = [cls for cls in TrackingStore.__mro__ if cls not in (object, ABC)]  # logged models included
    methods = {
        name
        for cls in contract
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_") and name != "close"  # close: the author's fixture
    }
    unexercised = sorted(name for name in methods if not re.search(rf"\.{name}\(", source))
    assert unexercised == []


def _kit_modules():
    return [sys.modules[cls.__module__] for cls in AREAS]


def test_kit_imports_without_sqlalchemy():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sqlalchemy"] = None  # any import of it now fails
        import headwater.testing.pytest_plugin
        from headwater.testing import TrackingStoreConformance
        assert TrackingStoreConformance.__name__ == "TrackingStoreConformance"
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_raises_code_checks_the_code():
    with kit.raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
        raise HeadwaterError.not_found("gone")
    with (
        pytest.raises(AssertionError, match="INVALID_PARAMETER_VALUE"),
        kit.raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST),
    ):
        raise HeadwaterError.invalid("bad")
    with pytest.raises(pytest.fail.Exception), kit.raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
        pass


def test_fixture_not_overridden_fails_with_a_hint(pytester):
    pytester.makepyfile(
        """
        from headwater.testing import TrackingStoreConformance

        class TestForgotten(TrackingStoreConformance):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "test_default_experiment_exists")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Override the `tracking_store` fixture*"])


# -- the kit catches broken stores ----------------------------------------------------------

MUTANTS = '''
import math

import pytest

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.paging import encode_page_token
from headwater.testing import TrackingStoreConformance
from headwater.validation import FLOAT_MAX
from headwater_store_memory.store import MemoryTrackingStore


class NonAtomicBatch(MemoryTrackingStore):
    """Writes item by item: no limits, and a late conflict leaves earlier items behind."""

    def log_batch(self, run_id, metrics=(), params=(), tags=()):
        for m in metrics:
            self.log_metric(run_id, m)
        for p in params:
            self.log_param(run_id, p)
        for t in tags:
            self.set_tag(run_id, t)


class InfinityLeaks(MemoryTrackingStore):
    def get_metric_history(self, *args, **kwargs):
        page = super().get_metric_history(*args, **kwargs)
        def leak(m):
            return m.model_copy(update={"value": math.copysign(math.inf, m.value)})

        items = [leak(m) if abs(m.value) == FLOAT_MAX else m for m in page.items]
        return page.model_copy(update={"items": items})


class LatestByTimestamp(MemoryTrackingStore):
    def get_run(self, run_id):
        run = super().get_run(run_id)
        latest = [
            max(self.get_metric_history(run_id, m.key).items, key=lambda p: (p.timestamp, p.step))
            for m in run.data.latest_metrics
        ]
        return run.model_copy(update={"data": run.data.model_copy(update={"latest_metrics": latest})})


class WrongRenameCode(MemoryTrackingStore):
    def rename_experiment(self, experiment_id, new_name):
        try:
            super().rename_experiment(experiment_id, new_name)
        except HeadwaterError as err:
            if err.error_code == ErrorCode.INVALID_STATE:
                raise HeadwaterError.invalid(err.message)
            raise


class NaNBlindSearch(MemoryTrackingStore):
    def search_runs(self, *args, **kwargs):
        page = super().search_runs(*args, **kwargs)
        items = [r for r in page.items if not any(math.isnan(v) for v in r.data.metrics.values())]
        return page.model_copy(update={"items": items})


class TokenOnLastPage(MemoryTrackingStore):
    def search_runs(self, *args, **kwargs):
        page = super().search_runs(*args, **kwargs)
        if page.token is None and page.items:
            return page.model_copy(update={"token": encode_page_token(10**6)})
        return page


def conformance_of(store_class):
    class Conformance(TrackingStoreConformance):
        @pytest.fixture
        def tracking_store(self, tmp_path):
            return store_class("memory://kit-test", str(tmp_path / "artifacts"))

    return Conformance


TestControl = conformance_of(MemoryTrackingStore)
TestNonAtomicBatch = conformance_of(NonAtomicBatch)
TestInfinityLeaks = conformance_of(InfinityLeaks)
TestLatestByTimestamp = conformance_of(LatestByTimestamp)
TestWrongRenameCode = conformance_of(WrongRenameCode)
TestNaNBlindSearch = conformance_of(NaNBlindSearch)
TestTokenOnLastPage = conformance_of(TokenOnLastPage)
'''

# mutant class -> tests (name[param] as pytest shows them) that must fail on it
MUST_FAIL = {
    "TestNonAtomicBatch": {
        "test_conflicting_param_at_the_end_writes_nothing",
        "test_batch_over_a_limit_writes_nothing[1001-0-0-metrics]",
        "test_duplicate_param_keys_are_refused",
    },
    "TestInfinityLeaks": {
        "test_infinity_is_returned_as_the_largest_double[inf-1.7976931348623157e+308]",
        "test_infinity_is_returned_as_the_largest_double[-inf--1.7976931348623157e+308]",
    },
    "TestLatestByTimestamp": {"test_latest_is_the_greatest_step_not_the_last_logged"},
    "TestWrongRenameCode": {"test_deleted_experiment_cannot_be_renamed"},
    "TestNaNBlindSearch": {"test_run_filter[metrics]"},
    "TestTokenOnLastPage": {"test_search_runs_pages[7-3-sizes0]", "test_search_runs_pages[6-3-sizes1]"},
}


def test_kit_catches_broken_stores(pytester):
    pytest.importorskip("headwater_store_memory")
    pytester.makepyfile(test_mutants=MUTANTS)
    every_case = set().union(*MUST_FAIL.values())
    node_ids = [f"test_mutants.py::TestControl::{test}" for test in sorted(every_case)]
    node_ids += [
        f"test_mutants.py::{cls}::{test}" for cls, tests in MUST_FAIL.items() for test in sorted(tests)
    ]
    reprec = pytester.inline_run("-p", "no:cacheprovider", *node_ids)
    passed, _, failed = reprec.listoutcomes()
    outcomes = {r.nodeid.split("::", 1)[1]: r.outcome for r in passed + failed}
    assert len(outcomes) == len(node_ids), "some selected tests were not collected"
    for test in every_case:
        assert outcomes[f"TestControl::{test}"] == "passed", test
    for cls, tests in MUST_FAIL.items():
        for test in tests:
            assert outcomes[f"{cls}::{test}"] == "failed", f"{cls} slipped through {test}"
