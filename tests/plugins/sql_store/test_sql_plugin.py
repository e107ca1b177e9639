"""The plugin entry point, URI handling and default artifact roots."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from headwater.plugins.manager import make_plugin_manager
from headwater_store_sql.engine import default_artifact_root, normalize_url, sqlite_file


def test_importing_the_plugin_does_not_import_sqlalchemy():
    code = (
        "import sys, headwater_store_sql, headwater_store_sql.plugin;"
        "heavy = [m for m in ('sqlalchemy', 'alembic') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_plugin_claims_database_schemes_and_builds_the_store(tmp_path):
    manager = make_plugin_manager()
    try:
        providers = manager.tracking_store_providers()
        for scheme in ("sqlite", "postgresql", "mysql"):
            provider, record = providers[scheme]
            assert provider.name == "sql" and record.distribution == "headwater-store-sql"
        store = manager.tracking_store(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "art"))
        from headwater_store_sql import SqlTrackingStore

        assert isinstance(store, SqlTrackingStore)
        assert store.get_experiment("0").artifact_location == f"{tmp_path / 'art'}/0"
    finally:
        manager.close()


@pytest.mark.parametrize(
    ("uri", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("mysql://u@h/db", "mysql+pymysql"),
        ("mysql+pymysql://u@h/db", "mysql+pymysql"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_default_drivers(uri, driver):
    assert normalize_url(uri).drivername == driver


def test_mysql_urls_get_utf8mb4_unless_given():
    assert normalize_url("mysql://u@h/db").query["charset"] == "utf8mb4"
    assert normalize_url("mysql://u@h/db?charset=utf8").query["charset"] == "utf8"


def test_default_artifact_root_is_beside_a_sqlite_file(tmp_path):
    assert default_artifact_root(f"sqlite:///{tmp_path}/sub/t.db") == f"{tmp_path}/sub/headwater-artifacts"


def test_default_artifact_root_elsewhere_is_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = os.path.join(str(tmp_path), "headwater-artifacts")
    assert default_artifact_root("sqlite://") == expected
    assert default_artifact_root("postgresql://u@h/db") == expected


def test_relative_sqlite_paths_are_resolved_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sqlite_file(normalize_url("sqlite:///rel.db")) == str(tmp_path / "rel.db")
    assert sqlite_file(normalize_url("sqlite:///:memory:")) is None


def test_store_without_artifact_root_uses_the_default(tmp_path):
    from headwater_store_sql import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        exp_id = store.create_experiment("e")
        assert store.get_experiment(exp_id).artifact_location == f"{tmp_path}/headwater-artifacts/{exp_id}"
        run = store.create_run(exp_id)
        assert run.info.artifact_uri == f"{tmp_path}/headwater-artifacts/{exp_id}/{run.info.run_id}/artifacts"
    finally:
        store.close()


def test_relative_artifact_locations_become_absolute(tmp_path, monkeypatch):
    from headwater_store_sql import SqlTrackingStore

    monkeypatch.chdir(tmp_path)
    store = SqlTrackingStore("sqlite://", "rel-root")
    try:
        assert store.get_experiment("0").artifact_location == f"{tmp_path}/rel-root/0"
        exp_id = store.create_experiment("e", artifact_location="elsewhere")
        assert store.get_experiment(exp_id).artifact_location == f"{tmp_path}/elsewhere"
        exp_id = store.create_experiment("s3", artifact_location="s3://bucket/x")
        assert store.get_experiment(exp_id).artifact_location == "s3://bucket/x"
    finally:
        store.close()


def test_in_memory_stores_do_not_share_data():
    from headwater_store_sql import SqlTrackingStore

    first, second = SqlTrackingStore("sqlite://"), SqlTrackingStore("sqlite://")
    try:
        first.create_experiment("only-in-first")
        assert second.get_experiment_by_name("only-in-first") is None
        assert second.get_experiment("0").name == "Default"
    finally:
        first.close()
        second.close()
