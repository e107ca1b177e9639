"""The auth tables on every SQL database family: SQLite, PostgreSQL, MariaDB."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater_auth import migrate
from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL, AuthStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql)])
def store(request, tmp_path):
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'auth.db'}"
    else:
        uri = request.getfixturevalue({"postgresql": "postgres_database_uri", "mysql": "mysql_database_uri"}[request.param])
    store = AuthStore(uri, cache_seconds=0)
    yield store
    with store.engine.begin() as conn:  # the session database is shared: leave it empty
        for table in ("headwater_auth_tokens", "headwater_auth_experiment_permissions",
                      "headwater_auth_registered_model_permissions", "headwater_auth_users"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    store.close()


def test_users_permissions_and_tokens_round_trip(store):
    alice = store.create_user("alice", "hash-a", False)
    bob = store.create_user("Alice", "hash-b", True)  # names are case-sensitive everywhere
    assert store.get_user("alice").id == alice.id != bob.id
    with pytest.raises(HeadwaterError) as taken:
        store.create_user("alice", "x")
    assert taken.value.error_code == ErrorCode.RESOURCE_ALREADY_EXISTS
    store.create_permission(REGISTERED_MODEL, "Model", alice, "READ")
    store.create_permission(REGISTERED_MODEL, "model", alice, "EDIT")
    store.create_permission(EXPERIMENT, "7", alice, "MANAGE")
    assert store.get_permission(REGISTERED_MODEL, "Model", alice.id) == "READ"
    assert store.get_permission(REGISTERED_MODEL, "model", alice.id) == "EDIT"
    store.rename_model("model", "model-v2")
    assert store.get_permission(REGISTERED_MODEL, "model-v2", alice.id) == "EDIT"
    token = store.create_token(alice, "d" * 64, "ci", 2_000_000_000_000)
    assert store.user_for_token("d" * 64) == (store.get_user("alice"), 2_000_000_000_000)
    store.delete_token(alice, token.id)
    assert store.user_for_token("d" * 64) is None
    store.delete_user("alice")
    assert store.get_user("alice") is None and store.get_permission(EXPERIMENT, "7", alice.id) is None
    assert migrate.upgrade(store.engine) == migrate.HEAD_REVISION


def test_another_process_sees_changes_after_its_cache_window(store):
    other = AuthStore(store.database_uri, cache_seconds=3600)  # a second server process, caching long
    try:
        user = store.create_user("carol", "h")
        assert other.get_permission(EXPERIMENT, "1", user.id) is None
        store.create_permission(EXPERIMENT, "1", user, "READ")
        assert other.get_permission(EXPERIMENT, "1", user.id) is None  # still inside its window
        other.cache_seconds = 0
        assert other.get_permission(EXPERIMENT, "1", user.id) == "READ"  # the generation moved on
    finally:
        other.close()
