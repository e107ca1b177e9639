"""Connection-pool settings from the environment (docs/production.md)."""

from __future__ import annotations

import pytest

from headwater_store_sql.engine import create_engine, pool_settings


def test_headwater_names_win_over_mlflow_names():
    env = {"HEADWATER_SQL_POOL_SIZE": "4", "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "9",
           "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "2", "HEADWATER_SQL_POOL_TIMEOUT": "7"}
    assert pool_settings(env) == {"pool_size": 4, "max_overflow": 2, "pool_timeout": 7}
    assert pool_settings({}) == {}
    with pytest.raises(ValueError, match="HEADWATER_SQL_POOL_RECYCLE"):
        pool_settings({"HEADWATER_SQL_POOL_RECYCLE": "soon"})


def test_a_server_database_engine_uses_them(monkeypatch):
    monkeypatch.setenv("HEADWATER_SQL_POOL_SIZE", "3")
    monkeypatch.setenv("HEADWATER_SQL_MAX_OVERFLOW", "1")
    engine = create_engine("postgresql://postgres@127.0.0.1:5432/postgres")  # no connection is made
    try:
        assert engine.pool.size() == 3 and engine.pool._max_overflow == 1
    finally:
        engine.dispose()
