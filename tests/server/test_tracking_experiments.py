"""Experiment endpoints through a live server (spec/rest-api.md §4)."""

from __future__ import annotations

import uuid


def _name() -> str:
    return f"exp-{uuid.uuid4().hex[:10]}"


def test_create_then_get_renders_the_experiment(api):
    name = _name()
    experiment_id = api.create_experiment(name, tags=[{"key": "team", "value": "a"}])
    assert isinstance(experiment_id, str) and experiment_id.isdigit()

    exp = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert exp["experiment_id"] == experiment_id
    assert exp["name"] == name
    assert exp["lifecycle_stage"] == "active"
    assert exp["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert exp["tags"] == [{"key": "team", "value": "a"}]
    # int64 times travel as JSON numbers, not protobuf's strings
    assert isinstance(exp["creation_time"], int) and isinstance(exp["last_update_time"], int)


def test_experiment_without_tags_has_no_tags_field(api):
    experiment_id = api.create_experiment()
    exp = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert "tags" not in exp


def test_default_experiment_exists(api):
    exp = api.ok(api.get("experiments/get", {"experiment_id": "0"}))["experiment"]
    assert exp["name"] == "Default"


def test_create_with_explicit_artifact_location(api, tmp_path):
    location = tmp_path.as_uri()
    experiment_id = api.create_experiment(artifact_location=location)
    exp = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert exp["artifact_location"] == location


def test_create_errors(api):
    name = _name()
    api.create_experiment(name)
    assert api.error(api.post("experiments/create", {"name": name}))[:2] == (400, "RESOURCE_ALREADY_EXISTS")
    status, code, message = api.error(api.post("experiments/create", {}))
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert message.startswith("Missing value for required parameter 'name'")
    assert api.error(api.post("experiments/create", {"name": ""}))[:2] == (400, "INVALID_PARAMETER_VALUE")
    assert api.error(api.post("experiments/create", {"name": 5}))[:2] == (400, "INVALID_PARAMETER_VALUE")


def test_a_deleted_experiment_still_holds_its_name(api):
    name = _name()
    experiment_id = api.create_experiment(name)
    api.ok(api.post("experiments/delete", {"experiment_id": experiment_id}))
    assert api.error(api.post("experiments/create", {"name": name}))[:2] == (400, "RESOURCE_ALREADY_EXISTS")


def test_get_errors(api):
    assert api.error(api.get("experiments/get", {"experiment_id": "987654321"}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")
    status, code, message = api.error(api.get("experiments/get", {"experiment_id": "abc"}))
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and "abc" in message
    status, _, message = api.error(api.get("experiments/get"))
    assert status == 400 and "'experiment_id'" in message


def test_get_by_name(api):
    name = _name()
    experiment_id = api.create_experiment(name)
    exp = api.ok(api.get("experiments/get-by-name", {"experiment_name": name}))["experiment"]
    assert exp["experiment_id"] == experiment_id
    status, code, message = api.error(api.get("experiments/get-by-name", {"experiment_name": name + "-nope"}))
    assert (status, code) == (404, "RESOURCE_DOES_NOT_EXIST") and name in message


def test_delete_and_restore(api):
    experiment_id = api.create_experiment()
    run_id = api.create_run(experiment_id)["info"]["run_id"]
    assert api.ok(api.post("experiments/delete", {"experiment_id": experiment_id})) == {}
    exp = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert exp["lifecycle_stage"] == "deleted"
    run = api.ok(api.get("runs/get", {"run_id": run_id}))["run"]
    assert run["info"]["lifecycle_stage"] == "deleted"
    # deleting twice is an error, as is restoring an active experiment
    assert api.error(api.post("experiments/delete", {"experiment_id": experiment_id}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")
    assert api.ok(api.post("experiments/restore", {"experiment_id": experiment_id})) == {}
    assert api.ok(api.get("runs/get", {"run_id": run_id}))["run"]["info"]["lifecycle_stage"] == "active"
    assert api.error(api.post("experiments/restore", {"experiment_id": experiment_id}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_rename(api):
    experiment_id = api.create_experiment()
    new_name = _name()
    assert api.ok(api.post("experiments/update", {"experiment_id": experiment_id, "new_name": new_name})) == {}
    assert api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]["name"] == new_name
    status, _, message = api.error(api.post("experiments/update", {"experiment_id": experiment_id}))
    assert status == 400 and "'new_name'" in message


def test_renaming_a_deleted_experiment_is_invalid_state(api):
    experiment_id = api.create_experiment()
    api.ok(api.post("experiments/delete", {"experiment_id": experiment_id}))
    response = api.post("experiments/update", {"experiment_id": experiment_id, "new_name": _name()})
    assert api.error(response)[:2] == (500, "INVALID_STATE")


def test_experiment_tags(api):
    experiment_id = api.create_experiment()
    body = {"experiment_id": experiment_id, "key": "k", "value": "v1"}
    assert api.ok(api.post("experiments/set-experiment-tag", body)) == {}
    assert api.ok(api.post("experiments/set-experiment-tag", {**body, "value": "v2"})) == {}
    exp = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert exp["tags"] == [{"key": "k", "value": "v2"}]
    assert api.ok(api.post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"})) == {}
    exp = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert "tags" not in exp
    response = api.post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"})
    assert api.error(response)[:2] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_search_requires_max_results_and_caps_it(api):
    for body in ({}, {"max_results": 0}, {"max_results": 50001}):
        status, code, message = api.error(api.post("experiments/search", body))
        assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and "max_results" in message


def test_search_pages_with_tokens_and_omits_the_last_token(api):
    marker = uuid.uuid4().hex[:8]
    ids = {api.create_experiment(f"paged-{marker}-{i}") for i in range(5)}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body = {"max_results": 2, "filter": f"name LIKE 'paged-{marker}-%'"}
        if token:
            body["page_token"] = token
        page = api.ok(api.post("experiments/search", body))
        seen += [e["experiment_id"] for e in page["experiments"]]
        pages += 1
        token = page.get("next_page_token")
        if token is None:
            break
    assert sorted(seen) == sorted(ids) and pages == 3


def test_search_with_no_hits_is_an_empty_object(api):
    response = api.post("experiments/search", {"max_results": 10, "filter": f"name = 'none-{uuid.uuid4().hex}'"})
    assert api.ok(response) == {}


def test_search_as_get_with_repeated_order_by_and_view_type(api):
    marker = uuid.uuid4().hex[:8]
    first = api.create_experiment(f"view-{marker}-a")
    second = api.create_experiment(f"view-{marker}-b")
    api.ok(api.post("experiments/delete", {"experiment_id": second}))
    query = [("max_results", "10"), ("filter", f"name LIKE 'view-{marker}-%'"),
             ("order_by", "name DESC"), ("order_by", "experiment_id ASC")]
    active = api.ok(api.get("experiments/search", query))
    assert [e["experiment_id"] for e in active["experiments"]] == [first]
    everything = api.ok(api.get("experiments/search", query + [("view_type", "ALL")]))
    assert [e["experiment_id"] for e in everything["experiments"]] == [second, first]
    deleted = api.ok(api.get("experiments/search", query + [("view_type", "2")]))
    assert [e["experiment_id"] for e in deleted["experiments"]] == [second]


def test_search_with_a_bad_filter_or_token_is_400(api):
    assert api.error(api.post("experiments/search", {"max_results": 5, "filter": "name >>> 'x'"}))[0] == 400
    assert api.error(api.post("experiments/search", {"max_results": 5, "page_token": "garbage!"}))[0] == 400
