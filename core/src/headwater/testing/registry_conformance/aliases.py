"""Aliases: set, move, read, delete, reserved names."""

from __future__ import annotations

import pytest

from headwater.testing.registry_conformance.base import ErrorCode, RegistryConformanceBase, raises_code, unique_name


class AliasConformance(RegistryConformanceBase):
    def test_set_get_and_show(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.set_registered_model_alias(model_name, "champion", "1")
        registry_store.set_registered_model_alias(model_name, "challenger", 2)
        assert registry_store.get_model_version_by_alias(model_name, "champion").version == "1"
        assert registry_store.get_registered_model(model_name).aliases == {"champion": "1", "challenger": "2"}
        assert registry_store.get_model_version(model_name, "1").aliases == ["champion"]
        assert registry_store.get_model_version(model_name, "2").aliases == ["challenger"]

    def test_setting_again_moves_the_alias(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.set_registered_model_alias(model_name, "champion", "1")
        registry_store.set_registered_model_alias(model_name, "champion", "2")
        assert registry_store.get_model_version_by_alias(model_name, "champion").version == "2"
        assert registry_store.get_model_version(model_name, "1").aliases == []

    def test_delete(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 1)
        registry_store.set_registered_model_alias(model_name, "champion", "1")
        registry_store.delete_registered_model_alias(model_name, "champion")
        registry_store.delete_registered_model_alias(model_name, "never-set")  # no error
        assert registry_store.get_registered_model(model_name).aliases == {}
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.get_model_version_by_alias(model_name, "champion")

    def test_latest_is_the_highest_live_version(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 3)
        registry_store.delete_model_version(model_name, "3")
        assert registry_store.get_model_version_by_alias(model_name, "latest").version == "2"
        assert registry_store.get_model_version_by_alias(model_name, "LATEST").version == "2"

    def test_deleting_a_version_removes_its_aliases(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.set_registered_model_alias(model_name, "a", "1")
        registry_store.set_registered_model_alias(model_name, "b", "2")
        registry_store.delete_model_version(model_name, "1")
        assert registry_store.get_registered_model(model_name).aliases == {"b": "2"}

    @pytest.mark.parametrize("bad", ["latest", "Latest", "v1", "V12", "has space", "a/b", "", "x" * 256])
    def test_invalid_aliases_write_nothing(self, registry_store, model_name, bad):
        self.add_versions(registry_store, model_name, 1)
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.set_registered_model_alias(model_name, bad, "1")
        assert registry_store.get_registered_model(model_name).aliases == {}

    def test_names_that_only_look_reserved_are_allowed(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 1)
        for alias in ("v1a", "latest-good", "vv1", "x" * 255):
            registry_store.set_registered_model_alias(model_name, alias, "1")
        assert len(registry_store.get_registered_model(model_name).aliases) == 4

    def test_targets_must_exist(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.delete_model_version(model_name, "2")
        for version in ("2", "3"):
            with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
                registry_store.set_registered_model_alias(model_name, "champion", version)
        missing = unique_name("missing")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.set_registered_model_alias(missing, "champion", "1")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_model_version_by_alias(missing, "champion")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.delete_registered_model_alias(missing, "champion")
        assert registry_store.get_registered_model(model_name).aliases == {}
