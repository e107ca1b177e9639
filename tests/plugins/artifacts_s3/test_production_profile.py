"""The production profile (docs/production.md): two server processes, one PostgreSQL database,
S3 for artifacts, authentication on, started at the same moment on a fresh database.

Both processes migrate the schema (tracking and auth tables) concurrently, then
clients write through both; every write must be visible through either and
nothing may be lost or duplicated.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import uuid

import pytest
import requests

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ADMIN = ("admin", "Prod-Root-Pass-42")
CLIENTS = 6
RUNS_PER_CLIENT = 3
POINTS = 25


@pytest.fixture(scope="module")
def production(start_headwater_server, moto_server, postgres_database_uri):
    bucket = f"prod-{uuid.uuid4().hex[:10]}"
    moto_server.client().create_bucket(Bucket=bucket)
    env = {**moto_server.environment(), "HEADWATER_AUTH_ADMIN_PASSWORD": ADMIN[1]}
    args = ("--backend-store-uri", postgres_database_uri, "--artifacts-destination", f"s3://{bucket}/artifacts",
            "--app-name", "basic-auth")
    servers = [start_headwater_server(*args, env=env, wait=False),
               start_headwater_server(*args, "--workers", "2", env=env, wait=False)]
    for server in servers:  # both were migrating the fresh database at once
        server.wait_until_up()
    return servers, bucket


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = ADMIN
    return session


def test_a_workload_through_two_servers_loses_nothing(production, moto_server):
    servers, bucket = production
    api = [f"{s.url}/api/2.0/mlflow" for s in servers]
    proxy = [f"{s.url}/api/2.0/mlflow-artifacts/artifacts" for s in servers]
    http = _session()
    experiment = http.post(f"{api[0]}/experiments/create", json={"name": f"prod-{uuid.uuid4().hex[:6]}"},
                           timeout=60).json()["experiment_id"]

    def client(index: int) -> list[tuple[str, bytes]]:
        session = _session()
        written = []
        for r in range(RUNS_PER_CLIENT):
            mine = (index + r) % 2
            run = session.post(f"{api[mine]}/runs/create", json={"experiment_id": experiment}, timeout=60)
            run.raise_for_status()
            run_id = run.json()["run"]["info"]["run_id"]
            for step in range(POINTS):
                other = (index + r + step) % 2  # alternate servers within one run
                session.post(f"{api[other]}/runs/log-metric", timeout=60, json={
                    "run_id": run_id, "key": "loss", "value": step / 10, "timestamp": step, "step": step,
                }).raise_for_status()
            session.post(f"{api[1 - mine]}/runs/log-parameter", timeout=60,
                         json={"run_id": run_id, "key": "client", "value": str(index)}).raise_for_status()
            payload = f"client {index} run {r} ".encode() * 5000
            session.put(f"{proxy[1 - mine]}/{experiment}/{run_id}/artifacts/out/data.bin", data=payload,
                        timeout=60).raise_for_status()
            written.append((run_id, payload))
        return written

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        written = [item for items in pool.map(client, range(CLIENTS)) for item in items]
    assert len({run_id for run_id, _ in written}) == CLIENTS * RUNS_PER_CLIENT

    for index in range(2):  # each server sees everything
        found, token = [], None
        while True:
            body = {"experiment_ids": [experiment], "max_results": 5, **({"page_token": token} if token else {})}
            page = http.post(f"{api[index]}/runs/search", json=body, timeout=60).json()
            found += [run["info"]["run_id"] for run in page.get("runs", [])]
            token = page.get("next_page_token")
            if not token:
                break
        assert sorted(found) == sorted(run_id for run_id, _ in written)
        for run_id, payload in written:
            history = http.get(f"{api[index]}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"},
                               timeout=60).json()["metrics"]
            assert sorted(m["step"] for m in history) == list(range(POINTS))
            got = http.get(f"{proxy[index]}/{experiment}/{run_id}/artifacts/out/data.bin", timeout=60)
            assert hashlib.sha256(got.content).digest() == hashlib.sha256(payload).digest()
    keys = {item["Key"] for page in moto_server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])}
    assert keys == {f"artifacts/{experiment}/{run_id}/artifacts/out/data.bin" for run_id, _ in written}
    assert requests.get(f"{api[1]}/experiments/get", params={"experiment_id": experiment}, timeout=30).status_code == 401
