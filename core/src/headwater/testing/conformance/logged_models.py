"""Logged models (MLflow 3): the optional part of the store contract.

Every test here is skipped for a store whose ``create_logged_model`` raises
NOT_IMPLEMENTED (the contract's default).
"""

from __future__ import annotations

import re

import pytest

from headwater.entities import LoggedModelOutput, LoggedModelStatus
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.testing.conformance.base import StoreConformanceBase, now_ms, raises_code

INVALID = ErrorCode.INVALID_PARAMETER_VALUE
MISSING = ErrorCode.RESOURCE_DOES_NOT_EXIST
UNKNOWN_MODEL = "m-0123456789abcdef0123456789abcdef"


def model_ids(page) -> list[str]:
    return [m.model_id for m in page.items]


class LoggedModelConformance(StoreConformanceBase):
    @pytest.fixture
    def logged_models(self, tracking_store, experiment_id):
        """Skips the test unless the store keeps logged models."""
        try:
            tracking_store.create_logged_model(experiment_id, name="probe")
        except HeadwaterError as err:
            if err.error_code == ErrorCode.NOT_IMPLEMENTED:
                pytest.skip("this store does not keep logged models")
            raise
        return tracking_store

    def test_create_and_get_logged_model(self, logged_models, experiment_id, run_id):
        store = logged_models
        before = now_ms()
        model = store.create_logged_model(
            experiment_id,
            name="model",
            source_run_id=run_id,
            tags={"flavor": "sklearn"},
            params={"alpha": "0.5"},
            model_type="classifier",
        )
        location = store.get_experiment(experiment_id).artifact_location.rstrip("/")
        assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
        assert model.artifact_uri == f"{location}/models/{model.model_id}/artifacts"
        assert (model.experiment_id, model.name, model.status) == (
            experiment_id,
            "model",
            LoggedModelStatus.PENDING,
        )
        assert (model.source_run_id, model.model_type) == (run_id, "classifier")
        assert (model.tags, model.params) == ({"flavor": "sklearn"}, {"alpha": "0.5"})
        assert before - 1000 <= model.creation_timestamp <= now_ms() + 1000
        assert store.get_logged_model(model.model_id) == model

    def test_unnamed_model_gets_a_name(self, logged_models, experiment_id):
        assert logged_models.create_logged_model(experiment_id).name

    @pytest.mark.parametrize("name", ["", "a/b", "a:b", "a.b", "a%b", 'a"b', "a'b"])
    def test_invalid_model_names(self, logged_models, experiment_id, name):
        with raises_code(INVALID):
            logged_models.create_logged_model(experiment_id, name=name)

    def test_create_in_unknown_or_deleted_experiment(self, logged_models, experiment_id):
        with raises_code(MISSING):
            logged_models.create_logged_model("987654321", name="m")
        logged_models.delete_experiment(experiment_id)
        with raises_code(INVALID):
            logged_models.create_logged_model(experiment_id, name="m")

    @pytest.mark.parametrize("status", [LoggedModelStatus.READY, LoggedModelStatus.UPLOAD_FAILED])
    def test_finalize(self, logged_models, experiment_id, status):
        model = logged_models.create_logged_model(experiment_id, name="m")
        finalized = logged_models.finalize_logged_model(model.model_id, status)
        assert finalized.status == status
        assert finalized.last_updated_timestamp >= model.creation_timestamp
        assert logged_models.get_logged_model(model.model_id).status == status

    def test_delete_hides_the_model(self, logged_models, experiment_id):
        model = logged_models.create_logged_model(experiment_id, name="doomed")
        logged_models.delete_logged_model(model.model_id)
        with raises_code(MISSING):
            logged_models.get_logged_model(model.model_id)
        # MLflow's wire format has no lifecycle field, so only presence is portable.
        assert logged_models.get_logged_model(model.model_id, allow_deleted=True).model_id == model.model_id
        assert model.model_id not in model_ids(logged_models.search_logged_models([experiment_id]))

    def test_tags(self, logged_models, experiment_id):
        model = logged_models.create_logged_model(experiment_id, name="m", tags={"a": "1"})
        logged_models.set_logged_model_tags(model.model_id, {"a": "2", "b": "3"})
        assert logged_models.get_logged_model(model.model_id).tags == {"a": "2", "b": "3"}
        logged_models.delete_logged_model_tag(model.model_id, "a")
        assert logged_models.get_logged_model(model.model_id).tags == {"b": "3"}
        with raises_code(MISSING):
            logged_models.delete_logged_model_tag(model.model_id, "a")

    def test_params_are_immutable(self, logged_models, experiment_id):
        model = logged_models.create_logged_model(experiment_id, name="m", params={"a": "1"})
        logged_models.log_logged_model_params(model.model_id, {"a": "1", "b": "2"})
        with raises_code(INVALID):
            logged_models.log_logged_model_params(model.model_id, {"a": "changed"})
        assert logged_models.get_logged_model(model.model_id).params == {"a": "1", "b": "2"}

    def test_unknown_model(self, logged_models):
        calls = [
            lambda s: s.get_logged_model(UNKNOWN_MODEL),
            lambda s: s.finalize_logged_model(UNKNOWN_MODEL, LoggedModelStatus.READY),
            lambda s: s.delete_logged_model(UNKNOWN_MODEL),
            lambda s: s.set_logged_model_tags(UNKNOWN_MODEL, {"a": "1"}),
            lambda s: s.delete_logged_model_tag(UNKNOWN_MODEL, "a"),
            lambda s: s.log_logged_model_params(UNKNOWN_MODEL, {"a": "1"}),
        ]
        for call in calls:
            with raises_code(MISSING):
                call(logged_models)

    def test_search_logged_models(self, logged_models, experiment_id, run_id):
        store = logged_models
        other = store.create_experiment("models-elsewhere-" + experiment_id)
        made = {
            "alpha": store.create_logged_model(
                experiment_id, name="alpha", tags={"team": "a"}, params={"k": "1"}
            ),
            "beta": store.create_logged_model(
                experiment_id, name="beta", source_run_id=run_id, params={"k": "2"}
            ),
            "gamma": store.create_logged_model(experiment_id, name="gamma", tags={"team": "b"}),
        }
        store.create_logged_model(other, name="alpha")
        store.finalize_logged_model(made["gamma"].model_id, LoggedModelStatus.READY)
        by_id = {m.model_id: name for name, m in made.items()}

        def found(filter_string=None, **kwargs):
            page = store.search_logged_models([experiment_id], filter_string=filter_string, **kwargs)
            return sorted(by_id[i] for i in model_ids(page) if i in by_id)

        assert found("name = 'alpha'") == ["alpha"]
        assert found("attributes.name LIKE '%a'") == ["alpha", "beta", "gamma"]
        assert found("tags.team = 'b'") == ["gamma"]
        assert found("params.k = '2'") == ["beta"]
        assert found(f"source_run_id = '{run_id}'") == ["beta"]
        assert found("status = 'LOGGED_MODEL_READY'") == ["gamma"]
        assert found("creation_timestamp > 0") == ["alpha", "beta", "gamma"]
        with raises_code(INVALID):
            store.search_logged_models([experiment_id], filter_string="name = 'a' OR name = 'b'")

        everything = store.search_logged_models([experiment_id]).items
        keys = [(-m.creation_timestamp, m.model_id) for m in everything]
        assert keys == sorted(keys)  # newest first, then model_id
        ascending = store.search_logged_models(
            [experiment_id], order_by=[{"field_name": "name", "ascending": True}]
        )
        names = [m.name for m in ascending.items]
        assert names == sorted(names)

        pages, token = [], None
        while True:
            page = store.search_logged_models([experiment_id], max_results=2, page_token=token)
            pages.append(model_ids(page))
            token = page.token
            if token is None:
                break
        flat = [i for p in pages for i in p]
        assert [len(p) for p in pages] == [2, 2]  # three models and the probe
        assert flat == [m.model_id for m in everything]

    def test_run_outputs_and_inputs(self, logged_models, experiment_id, run_id):
        produced = logged_models.create_logged_model(experiment_id, name="out", source_run_id=run_id)
        used = logged_models.create_logged_model(experiment_id, name="in")
        logged_models.log_outputs(run_id, [LoggedModelOutput(model_id=produced.model_id, step=3)])
        logged_models.log_model_inputs(run_id, [used.model_id])
        run = logged_models.get_run(run_id)
        assert [(o.model_id, o.step) for o in run.outputs.model_outputs] == [(produced.model_id, 3)]
        assert [i.model_id for i in run.inputs.model_inputs] == [used.model_id]

    def test_outputs_of_a_deleted_run_are_refused(self, logged_models, experiment_id, run_id):
        model = logged_models.create_logged_model(experiment_id, name="m")
        logged_models.delete_run(run_id)
        with raises_code(INVALID):
            logged_models.log_outputs(run_id, [LoggedModelOutput(model_id=model.model_id, step=0)])
