"""Deleted runs and experiments: what is refused, what still works, cascades."""

from __future__ import annotations

import pytest

from headwater.entities import LifecycleStage, RunStatus, ViewType
from headwater.exceptions import ErrorCode
from headwater.testing.conformance.base import (
    StoreConformanceBase,
    history,
    metric,
    param,
    raises_code,
    search_ids,
    tag,
    unique_name,
)
from headwater.testing.conformance.runs import dataset_input

INVALID = ErrorCode.INVALID_PARAMETER_VALUE

# Every write to a run, as (name, call); each must be refused once the run is deleted.
RUN_WRITES = {
    "log_metric": lambda s, r: s.log_metric(r, metric("m2", 1.0)),
    "log_param": lambda s, r: s.log_param(r, param("p2", "1")),
    "set_tag": lambda s, r: s.set_tag(r, tag("t2", "1")),
    "delete_tag": lambda s, r: s.delete_tag(r, "t"),
    "log_batch": lambda s, r: s.log_batch(r, metrics=[metric("m2", 1.0)], params=[param("p2", "1")]),
    "update_run_info": lambda s, r: s.update_run_info(r, run_status=RunStatus.FINISHED, end_time=5),
    "update_run_name": lambda s, r: s.update_run_info(r, run_name="new-name"),
    "log_inputs": lambda s, r: s.log_inputs(r, [dataset_input("train", "d9")]),
}


class LifecycleConformance(StoreConformanceBase):
    @pytest.fixture
    def deleted_run(self, tracking_store, run_id) -> str:
        tracking_store.log_metric(run_id, metric("m", 1.0))
        tracking_store.log_param(run_id, param("p", "1"))
        tracking_store.set_tag(run_id, tag("t", "1"))
        tracking_store.delete_run(run_id)
        return run_id

    @pytest.mark.parametrize("write", list(RUN_WRITES))
    def test_writes_to_a_deleted_run_are_refused(self, tracking_store, deleted_run, write):
        before = tracking_store.get_run(deleted_run)
        with raises_code(INVALID) as info:
            RUN_WRITES[write](tracking_store, deleted_run)
        assert "active" in info.value.message
        after = tracking_store.get_run(deleted_run)
        assert after.info == before.info
        assert (after.data.params, after.data.tags, after.data.metrics) == (
            before.data.params,
            before.data.tags,
            before.data.metrics,
        )
        assert after.inputs == before.inputs

    def test_deleted_run_can_be_read(self, tracking_store, deleted_run):
        run = tracking_store.get_run(deleted_run)
        assert run.info.lifecycle_stage == LifecycleStage.DELETED
        assert run.data.params == {"p": "1"} and run.data.metrics == {"m": 1.0}
        assert history(tracking_store, deleted_run, "m") == [(1000, 0, 1.0)]

    def test_restored_run_accepts_writes_again(self, tracking_store, deleted_run):
        tracking_store.restore_run(deleted_run)
        for write in RUN_WRITES.values():
            write(tracking_store, deleted_run)
        run = tracking_store.get_run(deleted_run)
        assert run.data.params == {"p": "1", "p2": "1"}
        assert "t" not in run.data.tags and run.info.run_name == "new-name"

    def test_deleted_experiment_refuses_new_runs_and_tags(self, tracking_store, experiment_id):
        tracking_store.set_experiment_tag(experiment_id, "keep", "1")
        tracking_store.delete_experiment(experiment_id)
        with raises_code(INVALID):
            tracking_store.create_run(experiment_id, start_time=1)
        with raises_code(INVALID):
            tracking_store.set_experiment_tag(experiment_id, "k", "v")
        with raises_code(INVALID):
            tracking_store.delete_experiment_tag(experiment_id, "keep")
        assert tracking_store.get_experiment(experiment_id).tags == {"keep": "1"}
        assert search_ids(tracking_store, [experiment_id], view=ViewType.ALL) == []

    def test_deleted_experiment_cannot_be_renamed(self, tracking_store, experiment_id):
        name = tracking_store.get_experiment(experiment_id).name
        tracking_store.delete_experiment(experiment_id)
        with raises_code(ErrorCode.INVALID_STATE):
            tracking_store.rename_experiment(experiment_id, unique_name("new"))
        assert tracking_store.get_experiment(experiment_id).name == name

    def test_deleting_twice_is_refused(self, tracking_store, experiment_id):
        tracking_store.delete_experiment(experiment_id)
        with raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST):
            tracking_store.delete_experiment(experiment_id)

    def test_deleted_experiment_can_be_read(self, tracking_store, experiment_id):
        name = tracking_store.get_experiment(experiment_id).name
        tracking_store.delete_experiment(experiment_id)
        assert tracking_store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED
        found = tracking_store.get_experiment_by_name(name)
        assert found.experiment_id == experiment_id and found.lifecycle_stage == LifecycleStage.DELETED

    def test_experiment_delete_cascades_and_restore_restores_all(self, tracking_store, experiment_id):
        runs = [tracking_store.create_run(experiment_id, start_time=i).info.run_id for i in range(3)]
        other_exp = tracking_store.create_experiment(unique_name("bystander"))
        bystander = tracking_store.create_run(other_exp, start_time=1).info.run_id
        tracking_store.delete_run(runs[0])  # deleted on its own before the experiment

        tracking_store.delete_experiment(experiment_id)
        for run_id in runs:
            assert tracking_store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
            with raises_code(INVALID):
                tracking_store.log_metric(run_id, metric("m", 1.0))
        assert search_ids(tracking_store, [experiment_id]) == []
        assert set(search_ids(tracking_store, [experiment_id], view=ViewType.DELETED_ONLY)) == set(runs)
        assert tracking_store.get_run(bystander).info.lifecycle_stage == LifecycleStage.ACTIVE

        tracking_store.restore_experiment(experiment_id)
        assert tracking_store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE
        for run_id in runs:
            assert tracking_store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
        assert set(search_ids(tracking_store, [experiment_id])) == set(runs)
        tracking_store.log_metric(runs[0], metric("m", 1.0))
