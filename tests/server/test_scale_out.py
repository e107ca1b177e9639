"""Two server processes on one PostgreSQL database under concurrent clients.

The server keeps no state of its own, so whichever process a request reaches
it sees the same data, and no write is lost or duplicated.
"""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
import requests

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 8
POINTS_PER_CLIENT = 40


@pytest.fixture(scope="module")
def two_servers(start_server, postgres_database_uri, tmp_path_factory):
    destination = tmp_path_factory.mktemp("shared-artifacts")
    args = ("--backend-store-uri", postgres_database_uri, "--artifacts-destination", str(destination))
    first = start_server(*args)  # creates the schema; the second finds it ready
    second = start_server(*args, "--workers", "2")
    return first, second


def test_writes_through_both_servers_are_neither_lost_nor_duplicated(two_servers, make_api):
    apis = [make_api(server.api) for server in two_servers]
    experiment_id = apis[0].create_experiment(f"shared-{uuid.uuid4().hex[:8]}")
    shared_run = apis[1].create_run(experiment_id)["info"]["run_id"]

    def client(index: int) -> list[str]:
        api = make_api(two_servers[index % 2].api)
        created = []
        for i in range(POINTS_PER_CLIENT):
            step = index * POINTS_PER_CLIENT + i
            api.ok(api.post("runs/log-metric", {"run_id": shared_run, "key": "loss", "value": step / 7,
                                                "timestamp": 1000 + step, "step": step}))
            if i % 10 == 0:
                run = api.create_run(experiment_id, run_name=f"c{index}-{i}")
                api.ok(api.post("runs/log-batch", {"run_id": run["info"]["run_id"],
                                                   "params": [{"key": "client", "value": str(index)}],
                                                   "metrics": [{"key": "acc", "value": i, "timestamp": 1}]}))
                created.append(run["info"]["run_id"])
            api.ok(api.post("runs/set-tag", {"run_id": shared_run, "key": "last", "value": str(step)}))
        api.ok(api.post("runs/log-parameter", {"run_id": shared_run, "key": f"client-{index}", "value": "yes"}))
        return created

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        created = [run for runs in pool.map(client, range(CLIENTS)) for run in runs]

    for api in apis:  # both processes see the same, complete data
        history = api.ok(api.get("metrics/get-history", {"run_id": shared_run, "metric_key": "loss"}))["metrics"]
        steps = [m["step"] for m in history]
        assert sorted(steps) == list(range(CLIENTS * POINTS_PER_CLIENT))
        run = api.ok(api.get("runs/get", {"run_id": shared_run}))["run"]
        params = {p["key"] for p in run["data"]["params"]}
        assert params == {f"client-{i}" for i in range(CLIENTS)}
        [latest] = [m for m in run["data"]["metrics"] if m["key"] == "loss"]
        assert latest["step"] == CLIENTS * POINTS_PER_CLIENT - 1
        found, token = [], None
        while True:
            body = {"experiment_ids": [experiment_id], "filter": "params.client != ''", "max_results": 7}
            page = api.ok(api.post("runs/search", {**body, **({"page_token": token} if token else {})}))
            found += [r["info"]["run_id"] for r in page.get("runs", [])]
            token = page.get("next_page_token")
            if not token:
                break
        assert sorted(found) == sorted(created) and len(set(found)) == len(found)


def test_racing_creates_of_one_name_make_one_experiment(two_servers, make_api):
    name = f"race-{uuid.uuid4().hex[:8]}"

    def create(index: int) -> tuple[int, str]:
        response = requests.post(f"{two_servers[index % 2].api}/experiments/create", json={"name": name}, timeout=60)
        return response.status_code, response.json().get("error_code", "")

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(create, range(CLIENTS * 2)))
    assert outcomes.count((200, "")) == 1
    assert all(outcome == (400, "RESOURCE_ALREADY_EXISTS") for outcome in outcomes if outcome[0] != 200)
    api = make_api(two_servers[1].api)
    found = api.ok(api.post("experiments/search", {"max_results": 10, "filter": f"name = '{name}'"}))
    assert len(found["experiments"]) == 1


def test_artifacts_written_through_one_server_are_listed_by_the_other(two_servers, make_api):
    first, second = (make_api(server.api) for server in two_servers)
    info = first.create_run(first.create_experiment())["info"]
    relative = info["artifact_uri"].split(":/", 1)[1]
    upload = requests.put(f"{two_servers[0].url}/api/2.0/mlflow-artifacts/artifacts/{relative}/a.txt", data=b"abc",
                          timeout=30)
    assert upload.status_code == 200
    listing = second.ok(second.get("artifacts/list", {"run_id": info["run_id"]}))
    assert listing["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 3}]
