"""SQL registry specifics: writers in separate processes, one-transaction deletes, statement counts."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from headwater.exceptions import HeadwaterError
from headwater_store_sql.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from headwater_store_sql.registry_store import SqlRegistryStore
from headwater_store_sql.testing import reset_database

WORKER = str(Path(__file__).with_name("registry_worker.py"))
PROCESSES = 4
PER_PROCESS = 10


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def registry_uri(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    uri = request.getfixturevalue("postgres_database_uri")
    reset_database(uri)
    return uri


@pytest.fixture
def registry(database_uri):
    reset_database(database_uri)
    store = SqlRegistryStore(database_uri)
    yield store
    store.close()


@pytest.mark.slow
def test_processes_creating_versions_at_once_get_consecutive_numbers(registry_uri):
    store = SqlRegistryStore(registry_uri)
    name = f"shared-{uuid.uuid4().hex[:8]}"
    store.create_registered_model(name)
    workers = [
        subprocess.Popen([sys.executable, WORKER, registry_uri, name, str(PER_PROCESS)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    results = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0] * PROCESSES, [err for _, err in results]
    numbers = sorted(int(n) for out, _ in results for n in out.split())
    assert numbers == list(range(1, PROCESSES * PER_PROCESS + 1))
    stored = store.search_model_versions(f"name = '{name}'", max_results=1000)
    assert sorted(int(v.version) for v in stored) == numbers
    store.close()


def _counts(store: SqlRegistryStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (registered_models, registered_model_tags, model_versions, model_version_tags,
                          registered_model_aliases)
        }


def test_delete_removes_every_child_row(registry):
    for name in ("keep", "drop"):
        registry.create_registered_model(name, tags={"t": "1"})
        for i in range(3):
            registry.create_model_version(name, f"s3://b/{name}/{i}", tags={"vt": str(i)})
        registry.set_registered_model_alias(name, "champion", "2")
    registry.delete_model_version("drop", "3")
    registry.delete_registered_model("drop")
    assert _counts(registry) == {
        "registered_models": 1, "registered_model_tags": 1, "model_versions": 3, "model_version_tags": 3,
        "registered_model_aliases": 1,
    }


def test_delete_is_one_transaction(registry):
    """A failure half-way through a delete leaves the model whole."""
    registry.create_registered_model("whole", tags={"t": "1"})
    registry.create_model_version("whole", "s3://b/1", tags={"vt": "1"})
    registry.set_registered_model_alias("whole", "champion", "1")
    before = _counts(registry)
    deletes: list[str] = []

    def fail_on_versions(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(statement)
            if "model_versions" in statement.split("WHERE")[0] and "tags" not in statement.split("WHERE")[0]:
                raise RuntimeError("simulated failure")

    sa.event.listen(registry.engine, "before_cursor_execute", fail_on_versions)
    try:
        with pytest.raises(RuntimeError):
            registry.delete_registered_model("whole")
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", fail_on_versions)
    assert len(deletes) == 3  # aliases and version tags went first, then the failure
    assert _counts(registry) == before
    model = registry.get_registered_model("whole")
    assert model.aliases == {"champion": "1"} and model.tags == {"t": "1"}
    assert registry.get_model_version("whole", "1").tags == {"vt": "1"}


def test_refused_calls_write_nothing(registry):
    registry.create_registered_model("m")
    before = _counts(registry)
    for call in (
        lambda: registry.create_registered_model("m"),
        lambda: registry.create_model_version("missing", "s3://b"),
        lambda: registry.create_model_version("m", "s3://b", tags={"bad key!": "x"}),
        lambda: registry.set_registered_model_alias("m", "v1", "1"),
        lambda: registry.transition_model_version_stage("m", "1", "Nope"),
    ):
        with pytest.raises(HeadwaterError):
            call()
    assert _counts(registry) == before


def test_search_pages_load_in_a_fixed_number_of_queries(registry):
    for i in range(30):
        name = f"many-{i:02d}"
        registry.create_registered_model(name, tags={"t": "x"})
        registry.create_model_version(name, f"s3://b/{i}", tags={"vt": "y"})
        registry.set_registered_model_alias(name, "champion", "1")
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(registry.engine, "before_cursor_execute", listener)
    try:
        models = registry.search_registered_models("name LIKE 'many-%'", max_results=30)
        versions = registry.search_model_versions("name LIKE 'many-%'", max_results=30)
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", listener)
    assert len(models) == 30 and len(versions) == 30
    assert all(m.latest_versions and m.aliases and m.tags for m in models)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 9, queries
