"""headwater.testing.RegistryStoreConformance: its structure, and that it catches broken registry stores.

Each mutant store breaks one rule of the registry contract; the tests written
for that rule must fail on it while they pass on the unbroken store.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap

import pytest

import headwater.testing.registry_conformance as kit
from headwater.store.registry import RegistryStore
from headwater.testing import RegistryStoreConformance

pytest_plugins = ["pytester"]

AREAS = [
    kit.RegisteredModelConformance,
    kit.ModelVersionConformance,
    kit.StageConformance,
    kit.AliasConformance,
    kit.RegistrySearchConformance,
    kit.RegistryConcurrencyConformance,
]


def test_no_area_hides_another_areas_test():
    seen: dict[str, str] = {}
    for area in AREAS:
        for name in (n for n in vars(area) if n.startswith("test_")):
            assert name not in seen, f"{name} is defined in {seen[name]} and {area.__name__}"
            seen[name] = area.__name__
    assert {n for n in dir(RegistryStoreConformance) if n.startswith("test_")} == set(seen)


def test_every_store_method_is_exercised():
    source = "\n".join(inspect.getsource(sys.modules[area.__module__]) for area in AREAS)
    methods = {name for name, member in vars(RegistryStore).items()
               if callable(member) and not name.startswith("_") and name != "close"}
    assert sorted(name for name in methods if not re.search(rf"\.{name}\(", source)) == []


def test_kit_imports_without_sqlalchemy():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sqlalchemy"] = None
        from headwater.testing import RegistryStoreConformance
        assert RegistryStoreConformance.__name__ == "RegistryStoreConformance"
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fixture_not_overridden_fails_with_a_hint(pytester):
    pytester.makepyfile(
        """
        from headwater.testing import RegistryStoreConformance

        class TestForgotten(RegistryStoreConformance):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "test_create_and_get")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Override the `registry_store` fixture*"])


MUTANTS = '''
import pytest

from headwater.exceptions import HeadwaterError
from headwater.store.paging import encode_page_token
from headwater.testing import RegistryStoreConformance
from headwater_store_sql.registry_store import SqlRegistryStore


class UnknownAliasIsNotFound(SqlRegistryStore):
    def get_model_version_by_alias(self, name, alias):
        try:
            return super().get_model_version_by_alias(name, alias)
        except HeadwaterError as err:
            raise HeadwaterError.not_found(err.message)


class ArchivesEveryOtherVersion(SqlRegistryStore):
    def transition_model_version_stage(self, name, version, stage, archive_existing_versions=False):
        if archive_existing_versions:
            for other in self.search_model_versions(f"name = '{name}'"):
                if other.version != str(version):
                    super().transition_model_version_stage(name, other.version, "Archived")
        return super().transition_model_version_stage(name, version, stage, archive_existing_versions)


class LatestIgnoresStages(SqlRegistryStore):
    def get_latest_versions(self, name, stages=None):
        return super().get_latest_versions(name, None)


class TokenOnLastPage(SqlRegistryStore):
    def search_registered_models(self, *args, **kwargs):
        page = super().search_registered_models(*args, **kwargs)
        if page.token is None and page.items:
            return page.model_copy(update={"token": encode_page_token(10**6)})
        return page


class KeepsDeletedVersionsInSearch(SqlRegistryStore):
    def delete_model_version(self, name, version):
        self.transition_model_version_stage(name, version, "Archived")


def conformance_of(store_class):
    class Conformance(RegistryStoreConformance):
        @pytest.fixture
        def registry_store(self, tmp_path):
            store = store_class(f"sqlite:///{tmp_path / 'registry.db'}")
            yield store
            store.close()

    return Conformance


TestControl = conformance_of(SqlRegistryStore)
TestUnknownAliasIsNotFound = conformance_of(UnknownAliasIsNotFound)
TestArchivesEveryOtherVersion = conformance_of(ArchivesEveryOtherVersion)
TestLatestIgnoresStages = conformance_of(LatestIgnoresStages)
TestTokenOnLastPage = conformance_of(TokenOnLastPage)
TestKeepsDeletedVersionsInSearch = conformance_of(KeepsDeletedVersionsInSearch)
'''

MUST_FAIL = {
    "TestUnknownAliasIsNotFound": {"test_delete"},
    "TestArchivesEveryOtherVersion": {"test_archive_existing_versions"},
    "TestLatestIgnoresStages": {"test_latest_versions_per_stage"},
    "TestTokenOnLastPage": {"test_model_pages"},
    "TestKeepsDeletedVersionsInSearch": {"test_deleted_versions_are_gone_for_readers",
                                         "test_deleted_versions_and_prompts_never_appear"},
}


def test_kit_catches_broken_stores(pytester):
    pytest.importorskip("headwater_store_sql")
    pytester.makepyfile(test_registry_mutants=MUTANTS)
    every_case = set().union(*MUST_FAIL.values())
    node_ids = [f"test_registry_mutants.py::TestControl::{test}" for test in sorted(every_case)]
    node_ids += [f"test_registry_mutants.py::{cls}::{test}" for cls, tests in MUST_FAIL.items() for test in sorted(tests)]
    # A subprocess: SQLAlchemy and Alembic must not be half-imported into this interpreter by an inline run.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *node_ids)
    outcomes = {
        match.group(2): match.group(1)
        for match in re.finditer(r"^(PASSED|FAILED|ERROR) test_registry_mutants\.py::(\S+)", result.stdout.str(), re.M)
    }
    assert len(outcomes) == len(node_ids), result.stdout.str()
    for test in every_case:
        assert outcomes[f"TestControl::{test}"] == "PASSED", test
    for cls, tests in MUST_FAIL.items():
        for test in tests:
            assert outcomes[f"{cls}::{test}"] == "FAILED", f"{cls} slipped through {test}"
