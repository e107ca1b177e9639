"""Model versions: numbering, fields, updates, soft deletes, tags, download URIs."""

from __future__ import annotations

import pytest

from headwater.testing.registry_conformance.base import ErrorCode, RegistryConformanceBase, raises_code, unique_name


class ModelVersionConformance(RegistryConformanceBase):
    def test_create_fills_every_field(self, registry_store, model_name):
        created = registry_store.create_model_version(
            model_name, "s3://bucket/model", run_id="abc123", tags={"k": "v"},
            run_link="http://runs/abc123", description="v one",
        )
        fetched = registry_store.get_model_version(model_name, "1")
        for version in (created, fetched):
            assert (version.name, version.version) == (model_name, "1")
            assert (version.current_stage, version.status) == ("None", "READY")
            assert (version.source, version.run_id, version.run_link) == ("s3://bucket/model", "abc123", "http://runs/abc123")
            assert (version.description, version.tags) == ("v one", {"k": "v"})
            assert version.creation_timestamp > 0
        assert fetched.last_updated_timestamp >= fetched.creation_timestamp

    def test_numbers_count_up_and_are_never_reused(self, registry_store, model_name):
        assert self.add_versions(registry_store, model_name, 3) == ["1", "2", "3"]
        registry_store.delete_model_version(model_name, "3")
        assert registry_store.create_model_version(model_name, "s3://bucket/next").version == "4"

    def test_creating_a_version_updates_the_model(self, registry_store, model_name):
        before = registry_store.get_registered_model(model_name).last_updated_timestamp
        created = registry_store.create_model_version(model_name, "s3://bucket/m")
        model = registry_store.get_registered_model(model_name)
        assert model.last_updated_timestamp >= max(before, created.creation_timestamp)
        assert [(v.version, v.current_stage) for v in model.latest_versions] == [("1", "None")]

    def test_unknown_model_writes_nothing(self, registry_store):
        missing = unique_name("missing")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.create_model_version(missing, "s3://bucket/m")
        registry_store.create_registered_model(missing)
        assert registry_store.create_model_version(missing, "s3://bucket/m").version == "1"

    def test_invalid_version_tags_write_nothing(self, registry_store, model_name):
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.create_model_version(model_name, "s3://bucket/m", tags={"bad key!": "v"})
        assert registry_store.get_registered_model(model_name).latest_versions == []
        assert registry_store.create_model_version(model_name, "s3://bucket/m").version == "1"

    def test_versions_may_be_ints_or_strings(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        assert registry_store.get_model_version(model_name, 2).version == "2"
        assert registry_store.get_model_version(model_name, "2").version == "2"

    @pytest.mark.parametrize("bad", ["abc", "1.5", "v1"])
    def test_non_integer_versions(self, registry_store, model_name, bad):
        self.add_versions(registry_store, model_name, 1)
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.get_model_version(model_name, bad)

    def test_unknown_versions(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 1)
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_model_version(model_name, "2")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_model_version(unique_name("missing"), "1")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.update_model_version(model_name, "2", "x")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.delete_model_version(model_name, "2")

    def test_update_version_description(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 1)
        updated = registry_store.update_model_version(model_name, "1", "now described")
        assert updated.description == "now described"
        assert registry_store.get_model_version(model_name, "1").description == "now described"

    def test_deleted_versions_are_gone_for_readers(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.delete_model_version(model_name, "2")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_model_version(model_name, "2")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.delete_model_version(model_name, "2")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.get_model_version_download_uri(model_name, "2")
        assert [v.version for v in registry_store.search_model_versions(f"name = '{model_name}'")] == ["1"]
        assert [v.version for v in registry_store.get_registered_model(model_name).latest_versions] == ["1"]

    def test_download_uri_is_the_source(self, registry_store, model_name):
        registry_store.create_model_version(model_name, "s3://bucket/path/model")
        assert registry_store.get_model_version_download_uri(model_name, "1") == "s3://bucket/path/model"

    def test_registered_model_source_downloads_from_that_version(self, registry_store, model_name):
        registry_store.create_model_version(model_name, "s3://bucket/original")
        copy = registry_store.create_registered_model(unique_name("copy")).name
        registry_store.create_model_version(copy, f"models:/{model_name}/1")
        assert registry_store.get_model_version(copy, "1").source == f"models:/{model_name}/1"
        assert registry_store.get_model_version_download_uri(copy, "1") == "s3://bucket/original"

    def test_version_tags(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 2)
        registry_store.set_model_version_tag(model_name, "1", "k", "v1")
        registry_store.set_model_version_tag(model_name, "1", "k", "v2")
        registry_store.set_model_version_tag(model_name, 2, "only-2", "x")
        assert registry_store.get_model_version(model_name, "1").tags == {"k": "v2"}
        assert registry_store.get_model_version(model_name, "2").tags == {"only-2": "x"}
        registry_store.delete_model_version_tag(model_name, "1", "k")
        registry_store.delete_model_version_tag(model_name, "1", "never-set")
        assert registry_store.get_model_version(model_name, "1").tags == {}

    def test_tag_errors_write_nothing(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, 1)
        with raises_code(ErrorCode.INVALID_PARAMETER_VALUE):
            registry_store.set_model_version_tag(model_name, "1", "a//b", "v")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.set_model_version_tag(model_name, "9", "k", "v")
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            registry_store.delete_model_version_tag(model_name, "9", "k")
        assert registry_store.get_model_version(model_name, "1").tags == {}
