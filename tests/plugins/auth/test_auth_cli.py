"""``headwater auth``: users, grants and tokens straight in the auth database."""

from __future__ import annotations

import json

from click.testing import CliRunner

from headwater.cli import main
from headwater_auth.passwords import token_digest
from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL, AuthStore


def test_bootstrap_grant_and_token_from_the_command_line(tmp_path, monkeypatch):
    for key in ("HEADWATER_AUTH_CONFIG", "MLFLOW_AUTH_CONFIG_PATH", "HEADWATER_AUTH_DATABASE_URI"):
        monkeypatch.delenv(key, raising=False)
    uri = f"sqlite:///{tmp_path / 'auth.db'}"
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None):
        result = runner.invoke(main, ["auth", *args, "--database-uri", uri], input=stdin)
        return result

    assert "up to date" in run("db-upgrade").output
    assert run("create-user", "ops", "--admin", "--password-stdin", stdin="Operator-Pass-1\n").exit_code == 0
    weak = run("create-user", "weak", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1 and "at least 12" in weak.output
    assert run("create-user", "ana", "--password-stdin", stdin="Reporting-Pass-22\n").exit_code == 0
    assert run("grant", "ana", "edit", "--experiment", "007").exit_code == 0
    assert run("grant", "ana", "READ", "--model", "Churn").exit_code == 0
    assert run("grant", "ana", "READ").exit_code == 2  # neither --experiment nor --model
    assert run("grant", "nobody", "READ", "--model", "Churn").exit_code == 1
    listed = {u["username"]: u for u in json.loads(run("list-users", "--json").output)}
    assert listed["ops"]["is_admin"] and not listed["ana"]["is_admin"]
    assert listed["ana"]["experiment"] == [{"experiment_id": "7", "user_id": listed["ana"]["id"], "permission": "EDIT"}]
    token = run("create-token", "ana", "--days", "2").output.strip()
    assert token.startswith("hwt_")
    store = AuthStore(uri, cache_seconds=0)
    try:
        user, _ = store.user_for_token(token_digest(token))
        assert user.username == "ana"
        assert store.get_permission(REGISTERED_MODEL, "Churn", user.id) == "READ"
        assert run("revoke", "ana", "--experiment", "7").exit_code == 0
        assert store.get_permission(EXPERIMENT, "7", user.id) is None
        assert run("set-admin", "ana", "--admin").exit_code == 0
        assert store.get_user("ana").is_admin
        assert run("delete-user", "ana").exit_code == 0
        assert store.get_user("ana") is None and store.user_for_token(token_digest(token)) is None
    finally:
        store.close()


def test_app_name_must_be_known():
    result = CliRunner().invoke(main, ["server", "--app-name", "basic-auht"])
    assert result.exit_code == 2 and "unknown app 'basic-auht'" in result.output
