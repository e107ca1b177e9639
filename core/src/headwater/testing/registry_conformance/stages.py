"""Stages: transitions, archiving the others, latest versions per stage."""

from __future__ import annotations

import pytest

from headwater.testing.registry_conformance.base import ErrorCode, RegistryConformanceBase, raises_code, unique_name


def stages_of(store, name: str) -> dict[str, str]:
    """version -> stage of every live version (through search)."""
    return {v.version: v.current_stage for v in store.search_model_versions(f"name = '{name}'")}


class StageConformance(RegistryConformanceBase):
    @pytest.mark.parametrize(
        "given, stored",
        [("Staging", "Staging"), ("production", "Production"), ("ARCHIVED", "Archived"), ("none", "None")],
    )
    def test_transition_stores_the_canonical_stage(self, registry_store, model_name, given, stored):
        self.add_versions(registry_store, model_name, 1)
        moved = registry_store.transition_model_version_stage(model_name, "1", given)
        assert moved.current_stage == stored
        assert registry_store.get_model_version(model_name, "1").current_stage == stored

    @pytest.mark.parametrize("bad", ["Prod", "Deleted_Internal", ""])
    def test_unknown_stages_change_nothing(self, registry_store, model_name, bad):
        self.add_versions(registry_store, model_name, 1)
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.transition_model_version_stage(model_name, "1", bad)
        assert registry_store.get_model_version(model_name, "1").current_stage == "None"

    def test_archive_existing_versions(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 4)
        registry_store.transition_model_version_stage(model_name, "1", "Production")
        registry_store.transition_model_version_stage(model_name, "2", "Production")
        registry_store.transition_model_version_stage(model_name, "3", "Staging")
        registry_store.transition_model_version_stage(model_name, "4", "Production", archive_existing_versions=True)
        assert stages_of(registry_store, model_name) == {
            "1": "Archived", "2": "Archived", "3": "Staging", "4": "Production",
        }

    def test_without_archiving_others_stay(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.transition_model_version_stage(model_name, "1", "Staging")
        registry_store.transition_model_version_stage(model_name, "2", "Staging")
        assert stages_of(registry_store, model_name) == {"1": "Staging", "2": "Staging"}

    @pytest.mark.parametrize("stage", ["None", "Archived"])
    def test_archiving_into_an_inactive_stage_is_an_internal_error(self, registry_store, model_name, stage):
        self.add_versions(registry_store, model_name, 2)
        registry_store.transition_model_version_stage(model_name, "1", "Staging")
        with raises_code(ErrorCode.INTERNAL_ERROR):
            registry_store.transition_model_version_stage(model_name, "2", stage, archive_existing_versions=True)
        assert stages_of(registry_store, model_name) == {"1": "Staging", "2": "None"}

    def test_transition_errors(self, registry_store, model_name):
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.transition_model_version_stage(model_name, "1", "Staging")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.transition_model_version_stage(unique_name("missing"), "1", "Staging")

    def test_latest_versions_per_stage(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 6)
        for version, stage in (("1", "Production"), ("2", "Production"), ("3", "Staging"), ("4", "Archived")):
            registry_store.transition_model_version_stage(model_name, version, stage)
        registry_store.delete_model_version(model_name, "6")

        def latest(stages=None):
            return sorted((v.current_stage, v.version) for v in registry_store.get_latest_versions(model_name, stages))

        assert latest() == [("Archived", "4"), ("None", "5"), ("Production", "2"), ("Staging", "3")]
        assert latest([]) == latest()
        assert latest(["production"]) == [("Production", "2")]
        assert latest(["Staging", "None"]) == [("None", "5"), ("Staging", "3")]
        model = registry_store.get_registered_model(model_name)
        assert sorted((v.current_stage, v.version) for v in model.latest_versions) == latest()

    def test_latest_versions_errors(self, registry_store, model_name):
        assert registry_store.get_latest_versions(model_name) == []
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_latest_versions(unique_name("missing"))
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.get_latest_versions(model_name, ["Nope"])
