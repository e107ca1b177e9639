"""Schema migrations: automatic on first use, idempotent, safe from several processes at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater_store_sql import upgrade_database
from headwater_store_sql.engine import create_engine
from headwater_store_sql.migrate import HEAD_REVISION, current_revision
from headwater_store_sql.schema import VERSION_TABLE, metadata
from headwater_store_sql.store import SqlTrackingStore
from headwater_store_sql.testing import reset_database

WORKER = str(Path(__file__).with_name("sql_worker.py"))


def test_head_revision_constant_matches_the_migration_scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "headwater_store_sql:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_upgrade_is_idempotent(fresh_database_uri):
    assert upgrade_database(fresh_database_uri) == HEAD_REVISION
    assert upgrade_database(fresh_database_uri) == HEAD_REVISION
    engine = create_engine(fresh_database_uri)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {VERSION_TABLE}")).scalar() == 1
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_table_definitions(fresh_database_uri):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade_database(fresh_database_uri)
    engine = create_engine(fresh_database_uri)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_first_store_creates_schema_and_default_experiment(fresh_database_uri, tmp_path):
    store = SqlTrackingStore(fresh_database_uri, str(tmp_path))
    try:
        default = store.get_experiment("0")
        assert (default.name, default.lifecycle_stage) == ("Default", "active")
        assert default.artifact_location == f"{tmp_path}/0"
        with store.engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
    finally:
        store.close()


@pytest.mark.slow
def test_processes_starting_together_on_a_new_database(fresh_database_uri):
    workers = [
        subprocess.Popen(
            [sys.executable, WORKER, "open", fresh_database_uri, f"exp-{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    results = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, [err for _, err in results]
    ids = sorted(int(out.strip()) for out, _ in results)
    assert len(set(ids)) == 4 and 0 not in ids
    store = SqlTrackingStore(fresh_database_uri)
    try:
        names = {e.name for e in store.search_experiments(max_results=100)}
        assert names == {"Default"} | {f"exp-{i}" for i in range(4)}
    finally:
        store.close()


def test_refuses_a_database_with_foreign_tables(fresh_database_uri):
    engine = create_engine(fresh_database_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(HeadwaterError) as info:
        upgrade_database(fresh_database_uri)
    assert info.value.error_code == ErrorCode.INVALID_STATE
    assert "did not create" in info.value.message


def test_reset_database_leaves_only_the_default_experiment_as_new(database_uri, tmp_path):
    reset_database(database_uri)
    store = SqlTrackingStore(database_uri, str(tmp_path))
    try:
        exp_id = store.create_experiment("to-be-wiped", tags={"k": "v"})
        store.create_run(exp_id)
        store.set_experiment_tag("0", "default-tag", "x")
        store.rename_experiment("0", "renamed")
        store.delete_experiment("0")
        reset_database(database_uri)
        experiments = store.search_experiments(view_type="ALL", max_results=10).items
        assert [(e.experiment_id, e.name, e.lifecycle_stage, e.tags) for e in experiments] == [
            ("0", "Default", "active", {})
        ]
        assert store.search_runs(["0", exp_id], run_view_type="ALL").items == []
    finally:
        store.close()
