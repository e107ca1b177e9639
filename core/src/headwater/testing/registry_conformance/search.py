"""search_registered_models and search_model_versions: filters, order, pages, prompts.

Every search is scoped to the test's own name prefix, so a store shared with
other tests still gives exact answers.
"""

from __future__ import annotations

import time

import pytest

from headwater.registry.validation import PROMPT_TAG
from headwater.testing.registry_conformance.base import ErrorCode, RegistryConformanceBase, raises_code, unique_name


def _all(search, **kwargs) -> list:
    out, token = [], None
    while True:
        page = search(page_token=token, **kwargs)
        out.extend(page)
        token = page.token
        if not token:
            return out


class RegistrySearchConformance(RegistryConformanceBase):
    @pytest.fixture
    def catalogue(self, registry_store) -> str:
        """Models <p>-alpha, <p>-Beta, <p>-gamma (tagged) and a prompt <p>-prompt; returns the prefix <p>."""
        prefix = unique_name("srch")
        registry_store.create_registered_model(f"{prefix}-alpha", tags={"team": "red"})
        registry_store.create_registered_model(f"{prefix}-Beta", tags={"team": "blue"})
        registry_store.create_registered_model(f"{prefix}-gamma", tags={"team": "red", "tier": "gold"})
        registry_store.create_registered_model(f"{prefix}-prompt", tags={PROMPT_TAG: "true"})
        return prefix

    def names(self, store, filter_string: str, **kwargs) -> list[str]:
        return [m.name for m in _all(store.search_registered_models, filter_string=filter_string, **kwargs)]

    @pytest.mark.parametrize(
        "condition, expected",
        [
            ("name = '{p}-alpha'", ["alpha"]),
            ("name != '{p}-alpha'", ["Beta", "gamma"]),
            ("name LIKE '{p}-%a'", ["Beta", "alpha", "gamma"]),
            ("name LIKE '{p}-b%'", []),
            ("name ILIKE '{p}-b%'", ["Beta"]),
            ("name IN ('{p}-alpha', '{p}-gamma')", ["alpha", "gamma"]),
            ("name NOT IN ('{p}-alpha')", ["Beta", "gamma"]),
            ("tags.team = 'red'", ["alpha", "gamma"]),
            ("tags.team != 'red'", ["Beta"]),
            ("tags.tier LIKE 'g%'", ["gamma"]),
            ("tags.`team` ILIKE 'RED' and tags.tier = 'gold'", ["gamma"]),
        ],
    )
    def test_model_filters(self, registry_store, catalogue, condition, expected):
        filter_string = f"name LIKE '{catalogue}-%' and " + condition.format(p=catalogue)
        assert self.names(registry_store, filter_string) == [f"{catalogue}-{n}" for n in expected]

    def test_prompts_only_when_asked_for(self, registry_store, catalogue):
        scope = f"name LIKE '{catalogue}-%'"
        assert f"{catalogue}-prompt" not in self.names(registry_store, scope)
        asked = self.names(registry_store, f"{scope} and tags.`{PROMPT_TAG}` = 'true'")
        assert asked == [f"{catalogue}-prompt"]
        assert len(self.names(registry_store, f"{scope} and tags.`{PROMPT_TAG}` = 'false'")) == 3

    def test_model_order(self, registry_store, catalogue):
        scope = f"name LIKE '{catalogue}-%'"
        by_name = [f"{catalogue}-{n}" for n in ("Beta", "alpha", "gamma")]  # byte order: upper case first
        assert self.names(registry_store, scope) == by_name
        assert self.names(registry_store, scope, order_by=["name DESC"]) == by_name[::-1]
        time.sleep(0.01)  # timestamps are milliseconds
        registry_store.update_registered_model(f"{catalogue}-alpha", "touched last")
        assert self.names(registry_store, scope, order_by=["timestamp DESC"])[0] == f"{catalogue}-alpha"
        assert self.names(registry_store, scope, order_by=["last_updated_timestamp ASC"])[-1] == f"{catalogue}-alpha"

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"filter_string": "description = 'x'"},
            {"filter_string": "attributes.name = 'x'"},
            {"filter_string": "tags.k IS NULL"},
            {"filter_string": "name = 'a' OR name = 'b'"},
            {"order_by": ["creation_timestamp"]},
            {"order_by": ["tags.team"]},
            {"max_results": 1001},
            {"max_results": 0},
            {"page_token": "not-a-token"},
        ],
    )
    def test_model_search_errors(self, registry_store, kwargs):
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.search_registered_models(**kwargs)

    def test_model_pages(self, registry_store):
        prefix = unique_name("page")
        names = sorted(f"{prefix}-{i:02d}" for i in range(7))
        for name in names:
            registry_store.create_registered_model(name)
        first = registry_store.search_registered_models(f"name LIKE '{prefix}-%'", max_results=3)
        assert [m.name for m in first] == names[:3] and first.token
        every = self.names(registry_store, f"name LIKE '{prefix}-%'", max_results=3)
        assert every == names
        last = registry_store.search_registered_models(f"name LIKE '{prefix}-%'", max_results=7)
        assert last.token is None

    def test_searched_models_are_complete(self, registry_store, catalogue):
        name = f"{catalogue}-alpha"
        registry_store.create_model_version(name, "s3://bucket/a")
        registry_store.set_registered_model_alias(name, "champion", "1")
        (found,) = registry_store.search_registered_models(f"name = '{name}'")
        assert found == registry_store.get_registered_model(name)

    # -- model versions ---------------------------------------------------------------------
    @pytest.fixture
    def versions(self, registry_store) -> str:
        """Model <p>-a: versions 1..3 (run r1, r1, r2); <p>-b: version 1 (run r2); prompt <p>-p: 1."""
        prefix = unique_name("mv")
        registry_store.create_registered_model(f"{prefix}-a")
        registry_store.create_registered_model(f"{prefix}-b")
        registry_store.create_registered_model(f"{prefix}-p", tags={PROMPT_TAG: "true"})
        for run_id in ("r1", "r1", "r2"):
            registry_store.create_model_version(f"{prefix}-a", f"s3://bucket/{run_id}/model", run_id=run_id)
        registry_store.create_model_version(f"{prefix}-b", "s3://other/model", run_id="r2", tags={"flavor": "sk"})
        registry_store.create_model_version(f"{prefix}-p", "s3://bucket/prompt")
        return prefix

    def found(self, store, prefix, condition="", **kwargs) -> list[tuple[str, str]]:
        filter_string = f"name LIKE '{prefix}-%'" + (f" and {condition}" if condition else "")
        return [
            (v.name[len(prefix) + 1 :], v.version)
            for v in _all(store.search_model_versions, filter_string=filter_string, **kwargs)
        ]

    @pytest.mark.parametrize(
        "condition, expected",
        [
            ("name = '{p}-b'", [("b", "1")]),
            ("run_id = 'r2'", [("a", "3"), ("b", "1")]),
            ("run_id IN ('r1')", [("a", "1"), ("a", "2")]),
            ("run_id NOT IN ('r1')", [("a", "3"), ("b", "1")]),
            ("source_path LIKE 's3://bucket/%'", [("a", "1"), ("a", "2"), ("a", "3")]),
            ("source_path = 's3://other/model'", [("b", "1")]),
            ("version_number > 1", [("a", "2"), ("a", "3")]),
            ("version_number = '2'", [("a", "2")]),
            ("tags.flavor = 'sk'", [("b", "1")]),
            ("name IN ('{p}-a') and version_number <= 2", [("a", "1"), ("a", "2")]),
        ],
    )
    def test_version_filters(self, registry_store, versions, condition, expected):
        found = self.found(registry_store, versions, condition.format(p=versions), order_by=["name", "version_number"])
        assert found == expected

    def test_version_order(self, registry_store, versions):
        by_name = self.found(registry_store, versions, order_by=["name ASC", "version_number ASC"])
        assert by_name == [("a", "1"), ("a", "2"), ("a", "3"), ("b", "1")]
        # Default: newest update first; a transition makes a version the newest.
        time.sleep(0.01)  # timestamps are milliseconds
        registry_store.transition_model_version_stage(f"{versions}-a", "1", "Staging")
        assert self.found(registry_store, versions)[0] == ("a", "1")
        assert self.found(registry_store, versions, order_by=["version_number DESC", "name DESC"]) == [
            ("a", "3"), ("a", "2"), ("b", "1"), ("a", "1"),
        ]

    def test_deleted_versions_and_prompts_never_appear(self, registry_store, versions):
        registry_store.delete_model_version(f"{versions}-a", "2")
        found = self.found(registry_store, versions, order_by=["name", "version_number"])
        assert found == [("a", "1"), ("a", "3"), ("b", "1")]

    def test_version_pages(self, registry_store, versions):
        pages = []
        page = registry_store.search_model_versions(f"name LIKE '{versions}-%'", max_results=2,
                                                    order_by=["name", "version_number"])
        pages.append([v.version for v in page])
        while page.token:
            page = registry_store.search_model_versions(f"name LIKE '{versions}-%'", max_results=2,
                                                        order_by=["name", "version_number"], page_token=page.token)
            pages.append([v.version for v in page])
        assert pages == [["1", "2"], ["3", "1"]]

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"filter_string": "stage = 'Production'"},
            {"filter_string": "version_number = 'one'"},
            {"filter_string": "creation_timestamp > 1"},
            {"filter_string": "source_path IN ('a')"},
            {"order_by": ["source_path"]},
            {"max_results": 200_001},
        ],
    )
    def test_version_search_errors(self, registry_store, kwargs):
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.search_model_versions(**kwargs)
