"""``headwater auth``: manage users, tokens and permissions in the auth database.

These commands work on the database directly (run them where the server's
database is reachable), so they also bootstrap a deployment before any
admin can sign in. Through a running server, use the REST endpoints or the
admin page instead. The database is ``--database-uri``, else the auth
setting ``database_uri``, else the tracking URI.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from headwater.cli._common import echo_json, print_table, reports_errors


def _database(database_uri: str | None) -> str:
    if database_uri:
        return database_uri
    from headwater_auth.config import AuthConfig

    configured = AuthConfig.load().database_uri
    if configured:
        return configured
    from headwater.tracking.uri import resolve_tracking_uri

    return resolve_tracking_uri()


def _service(database_uri: str | None) -> Any:
    from headwater_auth.config import AuthConfig
    from headwater_auth.service import AuthService
    from headwater_auth.store import AuthStore

    config = AuthConfig.load()
    return AuthService(config, AuthStore(_database(database_uri), cache_seconds=0), tracking=None)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


database_option = click.option("--database-uri", default=None, metavar="URI",
                               help="The auth database (default: the auth config's, else the tracking URI).")
stdin_option = click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")


def _resource(experiment: str | None, model: str | None) -> tuple[str, str]:
    from headwater_auth.service import experiment_id
    from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL

    if (experiment is None) == (model is None):
        raise click.UsageError("give exactly one of --experiment ID or --model NAME")
    return (EXPERIMENT, experiment_id(experiment)) if experiment is not None else (REGISTERED_MODEL, model or "")


@click.group()
def auth() -> None:
    """Users, access tokens and permissions (the headwater-auth plugin)."""


@auth.command("db-upgrade")
@database_option
@reports_errors
def db_upgrade(database_uri: str | None) -> None:
    """Create or upgrade the auth tables (safe while servers start)."""
    from headwater.cli.db import redact
    from headwater_auth.migrate import upgrade_auth_database

    uri = _database(database_uri)
    revision = upgrade_auth_database(uri)
    click.echo(f"Auth tables of {redact(uri)} are up to date (revision {revision}).")


@auth.command("create-user")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an admin.")
@stdin_option
@database_option
@reports_errors
def create_user(username: str, admin: bool, password_stdin: bool, database_uri: str | None) -> None:
    """Create USERNAME (the password is asked for, or read with --password-stdin)."""
    from headwater_auth.passwords import hash_password

    service = _service(database_uri)
    password = _password(password_stdin)
    service.check_password(password, username)
    service.store.create_user(username, hash_password(password), admin)
    click.echo(f"Created {'admin ' if admin else ''}user {username}.")


@auth.command("set-password")
@click.argument("username")
@stdin_option
@database_option
@reports_errors
def set_password(username: str, password_stdin: bool, database_uri: str | None) -> None:
    """Set USERNAME's password."""
    from headwater_auth.passwords import hash_password

    service = _service(database_uri)
    service.store.require_user(username)
    password = _password(password_stdin)
    service.check_password(password, username)
    service.store.update_password(username, hash_password(password))
    click.echo(f"Password of {username} changed.")


@auth.command("set-admin")
@click.argument("username")
@click.option("--admin/--not-admin", required=True, help="Make USERNAME an admin, or not.")
@database_option
@reports_errors
def set_admin(username: str, admin: bool, database_uri: str | None) -> None:
    """Make USERNAME an admin or a regular user."""
    service = _service(database_uri)
    service.store.require_user(username)
    service.store.update_admin(username, admin)
    click.echo(f"{username} is {'now' if admin else 'no longer'} an admin.")


@auth.command("delete-user")
@click.argument("username")
@database_option
@reports_errors
def delete_user(username: str, database_uri: str | None) -> None:
    """Delete USERNAME with their tokens and permissions."""
    _service(database_uri).store.delete_user(username)
    click.echo(f"Deleted user {username}.")


@auth.command("list-users")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@database_option
@reports_errors
def list_users(as_json: bool, database_uri: str | None) -> None:
    """List the users and their permissions."""
    store = _service(database_uri).store
    users = [{**u.to_json(), **store.permissions_of(u)} for u in store.list_users()]
    if as_json:
        echo_json(users)
        return
    rows = [[u["username"], "yes" if u["is_admin"] else "",
             ", ".join(f"{p['experiment_id']}:{p['permission']}" for p in u["experiment"]),
             ", ".join(f"{p['name']}:{p['permission']}" for p in u["registered_model"])] for u in users]
    print_table(["user", "admin", "experiments", "registered models"], rows)


@auth.command("grant")
@click.argument("username")
@click.argument("permission", type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False))
@click.option("--experiment", default=None, metavar="ID", help="An experiment id.")
@click.option("--model", default=None, metavar="NAME", help="A registered model name.")
@database_option
@reports_errors
def grant(username: str, permission: str, experiment: str | None, model: str | None, database_uri: str | None) -> None:
    """Give USERNAME PERMISSION on an experiment or registered model (replacing any they had)."""
    kind, key = _resource(experiment, model)
    store = _service(database_uri).store
    user = store.require_user(username)
    if store.get_permission(kind, key, user.id) is None:
        store.create_permission(kind, key, user, permission.upper())
    else:
        store.update_permission(kind, key, user, permission.upper())
    click.echo(f"{username} has {permission.upper()} on {kind} {key}.")


@auth.command("revoke")
@click.argument("username")
@click.option("--experiment", default=None, metavar="ID", help="An experiment id.")
@click.option("--model", default=None, metavar="NAME", help="A registered model name.")
@database_option
@reports_errors
def revoke(username: str, experiment: str | None, model: str | None, database_uri: str | None) -> None:
    """Remove USERNAME's permission on an experiment or model (the default applies again)."""
    kind, key = _resource(experiment, model)
    store = _service(database_uri).store
    store.delete_permission(kind, key, store.require_user(username))
    click.echo(f"Revoked {username}'s permission on {kind} {key}.")


@auth.command("create-token")
@click.argument("username")
@click.option("--days", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Days until the token expires.")
@click.option("--name", default="token", show_default=True, help="A label for the token.")
@database_option
@reports_errors
def create_token(username: str, days: float, name: str, database_uri: str | None) -> None:
    """Create an access token for USERNAME and print it (use it as MLFLOW_TRACKING_TOKEN)."""
    from headwater_auth.passwords import new_token, token_digest

    service = _service(database_uri)
    if days > service.config.token_max_days:
        raise click.BadParameter(f"at most {service.config.token_max_days}", param_hint="--days")
    user = service.store.require_user(username)
    token = new_token()
    service.store.create_token(user, token_digest(token), name, int((time.time() + days * 86400) * 1000))
    click.echo(token)
