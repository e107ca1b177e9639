"""Experiments: create, get, rename, tags, and the input rules on each."""

from __future__ import annotations

import pytest

from headwater.entities import LifecycleStage
from headwater.exceptions import ErrorCode
from headwater.store.tracking import DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME
from headwater.testing.conformance.base import StoreConformanceBase, now_ms, raises_code, unique_name

INVALID = ErrorCode.INVALID_PARAMETER_VALUE
MISSING = ErrorCode.RESOURCE_DOES_NOT_EXIST


class ExperimentConformance(StoreConformanceBase):
    def test_default_experiment_exists(self, tracking_store):
        exp = tracking_store.get_experiment(DEFAULT_EXPERIMENT_ID)
        assert exp.experiment_id == "0"
        assert exp.name == DEFAULT_EXPERIMENT_NAME == "Default"
        assert exp.lifecycle_stage == LifecycleStage.ACTIVE
        assert exp.artifact_location.rstrip("/").endswith("/0")
        assert tracking_store.get_experiment_by_name("Default").experiment_id == "0"

    def test_create_and_get_experiment(self, tracking_store):
        before = now_ms()
        name = unique_name("exp")
        exp_id = tracking_store.create_experiment(name)
        assert isinstance(exp_id, str) and exp_id != DEFAULT_EXPERIMENT_ID
        exp = tracking_store.get_experiment(exp_id)
        assert (exp.experiment_id, exp.name, exp.lifecycle_stage) == (exp_id, name, LifecycleStage.ACTIVE)
        assert exp.tags == {}
        assert before - 1000 <= exp.creation_time <= now_ms() + 1000
        assert exp.last_update_time >= exp.creation_time
        assert tracking_store.get_experiment_by_name(name).experiment_id == exp_id

    def test_experiment_ids_are_distinct_integers(self, tracking_store):
        ids = [tracking_store.create_experiment(unique_name("exp")) for _ in range(3)]
        assert len(set(ids)) == 3
        assert all(int(i) > 0 for i in ids)

    def test_default_artifact_location_ends_with_experiment_id(self, tracking_store):
        exp_id = tracking_store.create_experiment(unique_name("exp"))
        location = tracking_store.get_experiment(exp_id).artifact_location
        assert location.rstrip("/").endswith(f"/{exp_id}")

    def test_explicit_artifact_location_is_kept(self, tracking_store, tmp_path):
        location = (tmp_path / "somewhere").as_uri()
        exp_id = tracking_store.create_experiment(unique_name("exp"), artifact_location=location)
        assert tracking_store.get_experiment(exp_id).artifact_location == location

    @pytest.mark.parametrize("tags", [{"owner": "ana", "team": "ml"}, [("owner", "ana"), ("team", "ml")]])
    def test_create_with_tags(self, tracking_store, tags):
        exp_id = tracking_store.create_experiment(unique_name("exp"), tags=tags)
        assert tracking_store.get_experiment(exp_id).tags == {"owner": "ana", "team": "ml"}

    def test_duplicate_name_is_refused(self, tracking_store):
        name = unique_name("exp")
        exp_id = tracking_store.create_experiment(name)
        with raises_code(ErrorCode.RESOURCE_ALREADY_EXISTS):
            tracking_store.create_experiment(name)
        assert tracking_store.get_experiment_by_name(name).experiment_id == exp_id

    def test_name_of_deleted_experiment_stays_taken(self, tracking_store):
        name = unique_name("exp")
        tracking_store.delete_experiment(tracking_store.create_experiment(name))
        with raises_code(ErrorCode.RESOURCE_ALREADY_EXISTS):
            tracking_store.create_experiment(name)

    def test_names_are_case_sensitive(self, tracking_store):
        name = unique_name("Exp")
        upper = tracking_store.create_experiment(name.upper())
        lower = tracking_store.create_experiment(name.lower())
        assert upper != lower
        assert tracking_store.get_experiment_by_name(name.lower()).experiment_id == lower
        assert tracking_store.get_experiment_by_name(name) is None

    @pytest.mark.parametrize("name", ["", "   ", "x" * 501])
    def test_invalid_names_are_refused(self, tracking_store, name):
        with raises_code(INVALID):
            tracking_store.create_experiment(name)

    def test_name_of_500_characters_is_accepted(self, tracking_store):
        name = unique_name("x").ljust(500, "x")
        exp_id = tracking_store.create_experiment(name)
        assert tracking_store.get_experiment(exp_id).name == name

    @pytest.mark.parametrize(
        "location", ["runs:/0123456789abcdef/model", "file:///tmp/x#frag", "s3://bucket/" + "p" * 2048]
    )
    def test_invalid_artifact_locations_are_refused(self, tracking_store, location):
        name = unique_name("exp")
        with raises_code(INVALID):
            tracking_store.create_experiment(name, artifact_location=location)
        assert tracking_store.get_experiment_by_name(name) is None

    @pytest.mark.parametrize(
        "key,value", [("bad!key", "v"), ("k" * 251, "v"), ("a//b", "v"), ("ok", "v" * 20001)]
    )
    def test_invalid_experiment_tags_are_refused(self, tracking_store, experiment_id, key, value):
        with raises_code(INVALID):
            tracking_store.set_experiment_tag(experiment_id, key, value)
        name = unique_name("exp")
        with raises_code(INVALID):
            tracking_store.create_experiment(name, tags={key: value})
        assert tracking_store.get_experiment_by_name(name) is None
        assert tracking_store.get_experiment(experiment_id).tags == {}

    def test_experiment_tag_limits_are_inclusive(self, tracking_store, experiment_id):
        key, value = "k" * 250, "v" * 20000
        tracking_store.set_experiment_tag(experiment_id, key, value)
        assert tracking_store.get_experiment(experiment_id).tags == {key: value}

    def test_multibyte_names_and_tags_fill_the_limits(self, tracking_store):
        rocket = "\U0001f680"  # limits count characters, not bytes
        name = unique_name(rocket)[:500].ljust(500, rocket)
        exp_id = tracking_store.create_experiment(name, tags={"note": rocket * 20000})
        exp = tracking_store.get_experiment(exp_id)
        assert exp.name == name
        assert exp.tags == {"note": rocket * 20000}
        assert tracking_store.get_experiment_by_name(name).experiment_id == exp_id

    def test_unknown_experiment(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.get_experiment("987654321")
        assert tracking_store.get_experiment_by_name(unique_name("nope")) is None

    def test_non_integer_experiment_id_is_invalid(self, tracking_store):
        with raises_code(INVALID):
            tracking_store.get_experiment("abc")

    def test_rename_experiment(self, tracking_store, experiment_id):
        old = tracking_store.get_experiment(experiment_id)
        new_name = unique_name("renamed")
        tracking_store.rename_experiment(experiment_id, new_name)
        exp = tracking_store.get_experiment(experiment_id)
        assert exp.name == new_name
        assert exp.last_update_time >= old.last_update_time
        assert tracking_store.get_experiment_by_name(old.name) is None
        assert tracking_store.get_experiment_by_name(new_name).experiment_id == experiment_id

    def test_rename_to_a_taken_name_is_refused(self, tracking_store, experiment_id):
        taken = unique_name("taken")
        other = tracking_store.create_experiment(taken)
        original = tracking_store.get_experiment(experiment_id).name
        with pytest.raises(Exception) as info:
            tracking_store.rename_experiment(experiment_id, taken)
        assert getattr(info.value, "error_code", None) in (
            ErrorCode.RESOURCE_ALREADY_EXISTS,
            ErrorCode.BAD_REQUEST,
        ), f"a taken name must be a HeadwaterError, got {info.value!r}"
        assert tracking_store.get_experiment(experiment_id).name == original
        assert tracking_store.get_experiment_by_name(taken).experiment_id == other

    def test_rename_to_an_invalid_name_is_refused(self, tracking_store, experiment_id):
        with raises_code(INVALID):
            tracking_store.rename_experiment(experiment_id, "")

    def test_rename_unknown_experiment(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.rename_experiment("987654321", unique_name("x"))

    def test_set_experiment_tag_upserts(self, tracking_store, experiment_id):
        tracking_store.set_experiment_tag(experiment_id, "owner", "ana")
        tracking_store.set_experiment_tag(experiment_id, "stage", "dev")
        tracking_store.set_experiment_tag(experiment_id, "owner", "bob")
        assert tracking_store.get_experiment(experiment_id).tags == {"owner": "bob", "stage": "dev"}

    def test_delete_experiment_tag(self, tracking_store, experiment_id):
        tracking_store.set_experiment_tag(experiment_id, "owner", "ana")
        tracking_store.set_experiment_tag(experiment_id, "stage", "dev")
        tracking_store.delete_experiment_tag(experiment_id, "owner")
        assert tracking_store.get_experiment(experiment_id).tags == {"stage": "dev"}
        with raises_code(MISSING):
            tracking_store.delete_experiment_tag(experiment_id, "owner")

    def test_experiment_tags_on_unknown_experiment(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.set_experiment_tag("987654321", "k", "v")
        with raises_code(MISSING):
            tracking_store.delete_experiment_tag("987654321", "k")

    def test_delete_and_restore_experiment(self, tracking_store, experiment_id):
        tracking_store.delete_experiment(experiment_id)
        assert tracking_store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED
        tracking_store.restore_experiment(experiment_id)
        assert tracking_store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE

    def test_delete_or_restore_unknown_experiment(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.delete_experiment("987654321")
        with raises_code(MISSING):
            tracking_store.restore_experiment("987654321")

    def test_restore_of_an_active_experiment_is_refused(self, tracking_store, experiment_id):
        with raises_code(MISSING):
            tracking_store.restore_experiment(experiment_id)

    def test_default_experiment_can_be_deleted(self, tracking_store):
        tracking_store.delete_experiment(DEFAULT_EXPERIMENT_ID)
        assert tracking_store.get_experiment("0").lifecycle_stage == LifecycleStage.DELETED
