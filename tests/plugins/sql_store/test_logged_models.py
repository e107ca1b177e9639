"""Logged models in the SQL store, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest

from headwater.entities import LoggedModelOutput, LoggedModelStatus
from headwater.exceptions import ErrorCode, HeadwaterError


def code(excinfo) -> str:
    return excinfo.value.error_code


def test_create_get_and_finalize(store):
    exp_id = store.create_experiment("e")
    run = store.create_run(exp_id, start_time=1)
    model = store.create_logged_model(exp_id, "model", run.info.run_id, {"t": "1"}, {"p": "2"}, "regressor")
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert model.status == LoggedModelStatus.PENDING
    location = store.get_experiment(exp_id).artifact_location
    assert model.artifact_uri == f"{location}/models/{model.model_id}/artifacts"
    got = store.get_logged_model(model.model_id)
    assert (got.name, got.source_run_id, got.tags, got.params, got.model_type) == (
        "model", run.info.run_id, {"t": "1"}, {"p": "2"}, "regressor")
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY and ready.last_updated_timestamp >= model.creation_timestamp


def test_a_model_without_a_name_gets_one_and_bad_names_are_refused(store):
    assert store.create_logged_model("0").name
    for bad in ("a/b", "a:b", "a.b", "50%", 'q"', "it's", ""):
        with pytest.raises(HeadwaterError) as info:
            store.create_logged_model("0", bad)
        assert code(info) == ErrorCode.INVALID_PARAMETER_VALUE
    assert len(store.search_logged_models(["0"])) == 1  # nothing written for the refused ones


def test_unknown_experiment_run_and_model(store):
    with pytest.raises(HeadwaterError) as info:
        store.create_logged_model("424242", "m")
    assert code(info) == ErrorCode.RESOURCE_DOES_NOT_EXIST
    with pytest.raises(HeadwaterError) as info:
        store.create_logged_model("0", "m", source_run_id="f" * 32)
    assert code(info) == ErrorCode.RESOURCE_DOES_NOT_EXIST
    for call in (lambda: store.get_logged_model("m-nope"), lambda: store.finalize_logged_model("m-nope", "READY"),
                 lambda: store.set_logged_model_tags("m-nope", {"a": "b"})):
        with pytest.raises(HeadwaterError) as info:
            call()
        assert code(info) == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_tags_params_and_soft_delete(store):
    model = store.create_logged_model("0", "m", params={"alpha": "1"})
    store.set_logged_model_tags(model.model_id, {"a": "1", "b": "2"})
    store.set_logged_model_tags(model.model_id, {"a": "3"})
    store.delete_logged_model_tag(model.model_id, "b")
    with pytest.raises(HeadwaterError) as info:
        store.delete_logged_model_tag(model.model_id, "b")
    assert code(info) == ErrorCode.RESOURCE_DOES_NOT_EXIST
    store.log_logged_model_params(model.model_id, {"alpha": "1", "beta": "x"})
    with pytest.raises(HeadwaterError) as info:
        store.log_logged_model_params(model.model_id, {"alpha": "2"})
    assert code(info) == ErrorCode.INVALID_PARAMETER_VALUE
    got = store.get_logged_model(model.model_id)
    assert (got.tags, got.params) == ({"a": "3"}, {"alpha": "1", "beta": "x"})
    store.delete_logged_model(model.model_id)
    with pytest.raises(HeadwaterError):
        store.get_logged_model(model.model_id)
    assert store.get_logged_model(model.model_id, allow_deleted=True).lifecycle_stage == "deleted"
    assert store.search_logged_models(["0"]).items == []


def test_search_filters_orders_and_pages(store):
    exp_a, exp_b = store.create_experiment("a"), store.create_experiment("b")
    run = store.create_run(exp_a, start_time=1)
    made = [store.create_logged_model(exp_a, f"model-{i}", run.info.run_id if i % 2 else None, {"i": str(i)})
            for i in range(5)]
    store.create_logged_model(exp_b, "model-0")
    store.finalize_logged_model(made[3].model_id, "READY")

    def names(**kwargs):
        return [m.name for m in store.search_logged_models([exp_a], **kwargs)]

    assert names(filter_string="name = 'model-2'") == ["model-2"]
    assert sorted(names(filter_string="name LIKE 'model-%'")) == [f"model-{i}" for i in range(5)]
    assert names(filter_string="name LIKE 'MODEL-%'") == []
    assert sorted(names(filter_string=f"source_run_id = '{run.info.run_id}'")) == ["model-1", "model-3"]
    assert names(filter_string="status = 'READY'") == ["model-3"]
    assert names(filter_string="tags.i IN ('1', '4')", order_by=[{"field_name": "name"}]) == ["model-1", "model-4"]
    assert names(filter_string="name ILIKE 'MODEL-4'") == ["model-4"]
    assert names(order_by=[{"field_name": "name", "ascending": False}]) == [f"model-{i}" for i in reversed(range(5))]
    assert names(filter_string="metrics.acc > 0") == []
    pages, token = [], None
    while True:
        page = store.search_logged_models([exp_a], max_results=2, page_token=token,
                                          order_by=[{"field_name": "name"}], filter_string="tags.i != 'x'")
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    assert pages == [["model-0", "model-1"], ["model-2", "model-3"], ["model-4"]]
    assert len(store.search_logged_models([exp_a, exp_b])) == 6
    with pytest.raises(HeadwaterError):
        store.search_logged_models([exp_a], filter_string="name = ")
    with pytest.raises(HeadwaterError):
        store.search_logged_models([exp_a], order_by=[{"field_name": "nonsense"}])


def test_run_outputs_and_inputs_show_on_the_run(store):
    run = store.create_run("0", start_time=1)
    produced = store.create_logged_model("0", "out", run.info.run_id)
    used = store.create_logged_model("0", "in")
    store.log_outputs(run.info.run_id, [LoggedModelOutput(model_id=produced.model_id, step=3)])
    store.log_outputs(run.info.run_id, [(produced.model_id, 3)])  # the same output again: no duplicate
    store.log_model_inputs(run.info.run_id, [used.model_id])
    got = store.get_run(run.info.run_id)
    assert [(o.model_id, o.step) for o in got.outputs.model_outputs] == [(produced.model_id, 3)]
    assert [i.model_id for i in got.inputs.model_inputs] == [used.model_id]
    with pytest.raises(HeadwaterError) as info:
        store.log_outputs(run.info.run_id, [LoggedModelOutput(model_id="m-missing")])
    assert code(info) == ErrorCode.RESOURCE_DOES_NOT_EXIST
    store.delete_run(run.info.run_id)
    with pytest.raises(HeadwaterError):
        store.log_outputs(run.info.run_id, [LoggedModelOutput(model_id=produced.model_id)])
