"""Registered models: create, get, rename, update, delete, tags."""

from __future__ import annotations

import time

import pytest

from headwater.testing.registry_conformance.base import (
    ErrorCode,
    RegistryConformanceBase,
    all_model_names,
    raises_code,
    unique_name,
)

BAD_NAMES = ["", "   ", "a/b", "a:b", ".", "..", "..hidden", "x" * 257]


class RegisteredModelConformance(RegistryConformanceBase):
    def test_create_and_get(self, registry_store):
        name = unique_name("model")
        created = registry_store.create_registered_model(name, tags={"team": "vision"}, description="first")
        assert (created.name, created.description, created.tags) == (name, "first", {"team": "vision"})
        fetched = registry_store.get_registered_model(name)
        assert (fetched.name, fetched.description, fetched.tags) == (name, "first", {"team": "vision"})
        assert fetched.latest_versions == [] and fetched.aliases == {}
        assert fetched.creation_timestamp > 0
        assert fetched.last_updated_timestamp >= fetched.creation_timestamp

    def test_tags_may_be_pairs(self, registry_store):
        name = unique_name("model")
        registry_store.create_registered_model(name, tags=[("a", "1"), ("b", "2")])
        assert registry_store.get_registered_model(name).tags == {"a": "1", "b": "2"}

    def test_duplicate_name_is_refused(self, registry_store, model_name):
        with raises_code(ErrorCode.RESOURCE_ALREADY_EXISTS):
            registry_store.create_registered_model(model_name, description="second")
        assert registry_store.get_registered_model(model_name).description is None

    def test_names_are_case_sensitive(self, registry_store):
        name = unique_name("Model")
        registry_store.create_registered_model(name)
        registry_store.create_registered_model(name.lower())
        assert registry_store.get_registered_model(name).name == name
        assert registry_store.get_registered_model(name.lower()).name == name.lower()

    @pytest.mark.parametrize("bad", BAD_NAMES)
    def test_invalid_names_write_nothing(self, registry_store, bad):
        before = all_model_names(registry_store)
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.create_registered_model(bad)
        assert all_model_names(registry_store) == before

    def test_unknown_model(self, registry_store):
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_registered_model(unique_name("missing"))

    def test_rename_moves_versions(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        new_name = unique_name("renamed")
        renamed = registry_store.rename_registered_model(model_name, new_name)
        assert renamed.name == new_name
        assert [v.name for v in renamed.latest_versions] == [new_name]
        assert registry_store.get_model_version(new_name, "2").name == new_name
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_registered_model(model_name)

    def test_rename_to_a_taken_name_changes_nothing(self, registry_store, model_name):
        other = registry_store.create_registered_model(unique_name("other")).name
        with raises_code(ErrorCode.RESOURCE_ALREADY_EXISTS):
            registry_store.rename_registered_model(model_name, other)
        assert registry_store.get_registered_model(model_name).name == model_name

    def test_rename_errors(self, registry_store, model_name):
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.rename_registered_model(unique_name("missing"), unique_name("new"))
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.rename_registered_model(model_name, "a/b")
        assert registry_store.get_registered_model(model_name).name == model_name

    def test_update_description(self, registry_store, model_name):
        before = registry_store.get_registered_model(model_name)
        time.sleep(0.01)  # timestamps are milliseconds
        updated = registry_store.update_registered_model(model_name, "better")
        assert updated.description == "better"
        assert registry_store.get_registered_model(model_name).description == "better"
        assert updated.last_updated_timestamp > before.last_updated_timestamp
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.update_registered_model(unique_name("missing"), "x")

    def test_delete_removes_versions_tags_and_aliases(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2, tags={"vt": "1"})
        registry_store.set_registered_model_tag(model_name, "mt", "1")
        registry_store.set_registered_model_alias(model_name, "champion", "2")
        registry_store.delete_registered_model(model_name)
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_registered_model(model_name)
        assert list(registry_store.search_model_versions(f"name = '{model_name}'")) == []
        # A model of the same name starts from nothing: no tag, alias or version survived.
        registry_store.create_registered_model(model_name)
        fresh = registry_store.get_registered_model(model_name)
        assert (fresh.tags, fresh.aliases, fresh.latest_versions) == ({}, {}, [])
        assert registry_store.create_model_version(model_name, "s3://bucket/again").version == "1"
        assert registry_store.get_model_version(model_name, "1").tags == {}

    def test_delete_unknown(self, registry_store):
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.delete_registered_model(unique_name("missing"))

    def test_tags(self, registry_store, model_name):
        registry_store.set_registered_model_tag(model_name, "k", "v1")
        registry_store.set_registered_model_tag(model_name, "k", "v2")
        registry_store.set_registered_model_tag(model_name, "other", "x" * 100_000)
        tags = registry_store.get_registered_model(model_name).tags
        assert tags["k"] == "v2" and len(tags["other"]) == 100_000
        registry_store.delete_registered_model_tag(model_name, "k")
        registry_store.delete_registered_model_tag(model_name, "never-set")  # a missing tag is no error
        assert set(registry_store.get_registered_model(model_name).tags) == {"other"}

    @pytest.mark.parametrize("key, value", [("bad key!", "v"), ("a/../b", "v"), ("k" * 251, "v"), ("k", "v" * 100_001)])
    def test_invalid_tags_write_nothing(self, registry_store, model_name, key, value):
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.set_registered_model_tag(model_name, key, value)
        assert registry_store.get_registered_model(model_name).tags == {}

    def test_tags_of_unknown_models(self, registry_store):
        missing = unique_name("missing")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.set_registered_model_tag(missing, "k", "v")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.delete_registered_model_tag(missing, "k")
