"""Runs: create, get, update, tags, dataset inputs, and the run name <-> tag rule."""

from __future__ import annotations

import re

import pytest

from headwater.entities import Dataset, DatasetInput, InputTag, LifecycleStage, RunStatus
from headwater.exceptions import ErrorCode
from headwater.testing.conformance.base import (
    RUN_NAME_TAG,
    StoreConformanceBase,
    now_ms,
    raises_code,
    tag,
)
from headwater.validation import MAX_TAG_VALUE_LENGTH

INVALID = ErrorCode.INVALID_PARAMETER_VALUE
MISSING = ErrorCode.RESOURCE_DOES_NOT_EXIST
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


def dataset_input(name: str, digest: str, context: str | None = None) -> DatasetInput:
    tags = [InputTag(key="mlflow.data.context", value=context)] if context else []
    dataset = Dataset(name=name, digest=digest, source_type="local", source=f"/data/{name}.csv")
    return DatasetInput(dataset=dataset, tags=tags)


class RunConformance(StoreConformanceBase):
    def test_create_run(self, tracking_store, experiment_id):
        start = now_ms()
        run = tracking_store.create_run(
            experiment_id, user_id="ana", start_time=start, tags=[tag("team", "ml")], run_name="first"
        )
        info = run.info
        assert re.fullmatch(r"[a-zA-Z0-9][\w\-]{0,255}", info.run_id)
        assert info.run_uuid == info.run_id
        assert (info.experiment_id, info.user_id, info.start_time) == (experiment_id, "ana", start)
        assert info.status == RunStatus.RUNNING
        assert info.lifecycle_stage == LifecycleStage.ACTIVE
        assert info.end_time is None
        assert info.run_name == "first"
        assert run.data.tags["team"] == "ml"
        assert run.data.tags[RUN_NAME_TAG] == "first"
        assert tracking_store.get_run(info.run_id).info == info

    def test_artifact_uri_is_under_the_experiment_location(self, tracking_store, experiment_id):
        location = tracking_store.get_experiment(experiment_id).artifact_location.rstrip("/")
        run = tracking_store.create_run(experiment_id, start_time=now_ms())
        assert run.info.artifact_uri == f"{location}/{run.info.run_id}/artifacts"

    def test_run_ids_are_unique(self, tracking_store, experiment_id):
        ids = {tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id for _ in range(5)}
        assert len(ids) == 5

    def test_run_without_name_gets_a_generated_one(self, tracking_store, experiment_id):
        run = tracking_store.get_run(
            tracking_store.create_run(experiment_id, start_time=now_ms()).info.run_id
        )
        assert run.info.run_name
        assert run.data.tags[RUN_NAME_TAG] == run.info.run_name

    def test_run_name_taken_from_the_tag(self, tracking_store, experiment_id):
        run = tracking_store.create_run(
            experiment_id, start_time=now_ms(), tags=[tag(RUN_NAME_TAG, "from-tag")]
        )
        stored = tracking_store.get_run(run.info.run_id)
        assert stored.info.run_name == "from-tag"
        assert stored.data.tags[RUN_NAME_TAG] == "from-tag"

    def test_run_name_and_equal_tag_are_accepted(self, tracking_store, experiment_id):
        run = tracking_store.create_run(
            experiment_id, start_time=now_ms(), tags=[tag(RUN_NAME_TAG, "same")], run_name="same"
        )
        assert tracking_store.get_run(run.info.run_id).info.run_name == "same"

    def test_run_name_conflicting_with_tag_is_refused(self, tracking_store, experiment_id):
        with raises_code(INVALID):
            tracking_store.create_run(
                experiment_id, start_time=now_ms(), tags=[tag(RUN_NAME_TAG, "a")], run_name="b"
            )
        assert tracking_store.search_runs([experiment_id]).items == []

    def test_create_run_in_unknown_experiment(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.create_run("987654321", start_time=now_ms())

    def test_get_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.get_run(UNKNOWN_RUN)

    def test_update_run_info(self, tracking_store, run_id):
        end = now_ms() + 5
        info = tracking_store.update_run_info(run_id, run_status=RunStatus.FINISHED, end_time=end)
        assert (info.status, info.end_time) == (RunStatus.FINISHED, end)
        stored = tracking_store.get_run(run_id).info
        assert (stored.status, stored.end_time) == (RunStatus.FINISHED, end)
        assert stored.run_name == info.run_name

    def test_resuming_a_run_clears_its_end_time(self, tracking_store, run_id):
        tracking_store.update_run_info(run_id, run_status=RunStatus.FINISHED, end_time=now_ms())
        tracking_store.update_run_info(run_id, run_name="still-ended")
        assert tracking_store.get_run(run_id).info.end_time is not None
        info = tracking_store.update_run_info(run_id, run_status=RunStatus.RUNNING)
        assert (info.status, info.end_time) == (RunStatus.RUNNING, None)
        assert tracking_store.get_run(run_id).info.end_time is None

    @pytest.mark.parametrize("status", list(RunStatus))
    def test_every_status_transition_is_allowed(self, tracking_store, run_id, status):
        tracking_store.update_run_info(run_id, run_status=RunStatus.FINISHED)
        tracking_store.update_run_info(run_id, run_status=status)
        assert tracking_store.get_run(run_id).info.status == status

    def test_update_run_name_rewrites_the_tag(self, tracking_store, run_id):
        info = tracking_store.update_run_info(run_id, run_name="renamed")
        assert info.run_name == "renamed"
        run = tracking_store.get_run(run_id)
        assert run.info.run_name == "renamed"
        assert run.data.tags[RUN_NAME_TAG] == "renamed"
        assert run.info.status == RunStatus.RUNNING

    def test_update_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.update_run_info(UNKNOWN_RUN, run_status=RunStatus.FINISHED)

    def test_set_tag_upserts(self, tracking_store, run_id):
        tracking_store.set_tag(run_id, tag("a", "1"))
        tracking_store.set_tag(run_id, tag("b", "2"))
        tracking_store.set_tag(run_id, tag("a", "3"))
        tags = tracking_store.get_run(run_id).data.tags
        assert (tags["a"], tags["b"]) == ("3", "2")

    def test_set_run_name_tag_renames_the_run(self, tracking_store, run_id):
        tracking_store.set_tag(run_id, tag(RUN_NAME_TAG, "via-tag"))
        run = tracking_store.get_run(run_id)
        assert run.info.run_name == "via-tag"
        assert run.data.tags[RUN_NAME_TAG] == "via-tag"

    def test_tag_value_is_truncated(self, tracking_store, run_id):
        tracking_store.set_tag(run_id, tag("long", "v" * (MAX_TAG_VALUE_LENGTH + 10)))
        assert tracking_store.get_run(run_id).data.tags["long"] == "v" * MAX_TAG_VALUE_LENGTH

    def test_empty_tag_value_is_kept(self, tracking_store, run_id):
        tracking_store.set_tag(run_id, tag("empty", ""))
        assert tracking_store.get_run(run_id).data.tags["empty"] == ""

    def test_delete_tag(self, tracking_store, run_id):
        tracking_store.set_tag(run_id, tag("a", "1"))
        tracking_store.delete_tag(run_id, "a")
        assert "a" not in tracking_store.get_run(run_id).data.tags
        with raises_code(MISSING):
            tracking_store.delete_tag(run_id, "a")

    def test_tags_on_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.set_tag(UNKNOWN_RUN, tag("a", "1"))
        with raises_code(MISSING):
            tracking_store.delete_tag(UNKNOWN_RUN, "a")

    def test_delete_and_restore_run(self, tracking_store, run_id):
        tracking_store.delete_run(run_id)
        assert tracking_store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
        tracking_store.delete_run(run_id)  # idempotent
        assert tracking_store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
        tracking_store.restore_run(run_id)
        tracking_store.restore_run(run_id)  # idempotent
        assert tracking_store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE

    def test_delete_or_restore_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.delete_run(UNKNOWN_RUN)
        with raises_code(MISSING):
            tracking_store.restore_run(UNKNOWN_RUN)

    def test_log_inputs(self, tracking_store, run_id):
        tracking_store.log_inputs(
            run_id, [dataset_input("train", "d1", "training"), dataset_input("eval", "d2", "evaluation")]
        )
        inputs = tracking_store.get_run(run_id).inputs.dataset_inputs
        by_name = {i.dataset.name: i for i in inputs}
        assert set(by_name) == {"train", "eval"}
        train = by_name["train"]
        assert (train.dataset.digest, train.dataset.source_type, train.dataset.source) == (
            "d1",
            "local",
            "/data/train.csv",
        )
        assert {(t.key, t.value) for t in train.tags} == {("mlflow.data.context", "training")}

    def test_log_inputs_on_unknown_run(self, tracking_store):
        with raises_code(MISSING):
            tracking_store.log_inputs(UNKNOWN_RUN, [dataset_input("train", "d1")])
