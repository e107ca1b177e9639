"""A minimal admin page at ``<prefix>/auth/admin``: users and permissions, in plain HTML.

Every form post carries a CSRF token (an HMAC of the signed-in user and the
day, keyed by the secret shared by all server processes), and a post whose
``Origin`` or ``Referer`` names another host is refused: a browser holding
an admin's Basic credentials sends them along with any site's forms, so both
checks matter. Every value shown is escaped; the page runs no script and its
Content-Security-Policy forbids any.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import time
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from headwater.exceptions import HeadwaterError

from headwater_auth.passwords import hash_password
from headwater_auth.permissions import ALL_PERMISSIONS, get_permission
from headwater_auth.service import AuthService, experiment_id
from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL, User

PAGE_PATH = "/auth/admin"
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_E = html.escape


def csrf_token(secret: str, username: str, day: int | None = None) -> str:
    day = int(time.time() // 86400) if day is None else day
    return hmac.new(secret.encode(), f"{username}:{day}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, username: str, token: str) -> bool:
    today = int(time.time() // 86400)
    return any(hmac.compare_digest(csrf_token(secret, username, day), token) for day in (today, today - 1))


class AdminPage:
    def __init__(self, service: AuthService, static_prefix: str = ""):
        self.service = service
        self.store = service.store
        self.path = f"{static_prefix}{PAGE_PATH}"

    def routes(self) -> list[Route]:
        return [Route(self.path, self.show, methods=["GET"], include_in_schema=False),
                Route(f"{self.path}/{{action}}", self.act, methods=["POST"], include_in_schema=False)]

    async def show(self, request: Request) -> Response:
        user = request.scope.get("state", {}).get("headwater_user")
        if user is None or not user.is_admin:
            return HTMLResponse("<h1>Permission denied</h1><p>Only admins may manage users.</p>", 403, _HEADERS)
        return HTMLResponse(await run_in_threadpool(self._render, user, ""), headers=_HEADERS)

    async def act(self, request: Request) -> Response:
        user = request.scope.get("state", {}).get("headwater_user")
        if user is None or not user.is_admin:
            return HTMLResponse("<h1>Permission denied</h1>", 403, _HEADERS)
        if not _same_origin(request):
            return HTMLResponse("<h1>Cross-site form post refused</h1>", 403, _HEADERS)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if not csrf_valid(await run_in_threadpool(self.store.secret), user.username, form.get("csrf_token", "")):
            return HTMLResponse("<h1>Missing or stale form token: reload the page</h1>", 403, _HEADERS)
        try:
            message = await run_in_threadpool(self._do, request.path_params["action"], form, user)
            status = 200
        except HeadwaterError as error:
            message, status = f"Error: {error.message}", error.http_status
        return HTMLResponse(await run_in_threadpool(self._render, user, message), status, _HEADERS)

    def _do(self, action: str, form: dict[str, str], admin: User) -> str:
        store = self.store
        if action == "create-user":
            username, password = form.get("username", "").strip(), form.get("password", "")
            if not username:
                raise HeadwaterError.invalid("A username is required")
            self.service.check_password(password, username)
            store.create_user(username, hash_password(password), form.get("is_admin") == "on")
            return f"Created user {username}."
        if action == "delete-user":
            username = form.get("username", "")
            if username == admin.username:
                raise HeadwaterError.invalid("Admins cannot delete themselves")
            store.delete_user(username)
            return f"Deleted user {username}."
        if action in ("grant", "revoke"):
            kind = EXPERIMENT if form.get("kind") == "experiment" else REGISTERED_MODEL
            key = form.get("key", "").strip()
            if kind == EXPERIMENT:
                key = experiment_id(key)
                self.service.tracking.get_experiment(key)
            user = store.require_user(form.get("username", ""))
            if action == "revoke":
                store.delete_permission(kind, key, user)
                return f"Revoked {user.username}'s permission on {kind} {key}."
            permission = get_permission(form.get("permission", "")).name
            if store.get_permission(kind, key, user.id) is None:
                store.create_permission(kind, key, user, permission)
            else:
                store.update_permission(kind, key, user, permission)
            return f"Granted {permission} on {kind} {key} to {user.username}."
        raise HeadwaterError.invalid(f"Unknown action {action!r}")

    def _render(self, admin: User, message: str) -> str:
        token = csrf_token(self.store.secret(), admin.username)
        hidden = f'<input type="hidden" name="csrf_token" value="{_E(token)}">'
        rows = []
        for user in self.store.list_users():
            grants = self.store.permissions_of(user)
            shown = [f"experiment {_E(g['experiment_id'])}: {_E(g['permission'])}" for g in grants[EXPERIMENT]]
            shown += [f"model {_E(g['name'])}: {_E(g['permission'])}" for g in grants[REGISTERED_MODEL]]
            rows.append(f"<tr><td>{_E(user.username)}</td><td>{'yes' if user.is_admin else ''}</td>"
                        f"<td>{'<br>'.join(shown)}</td></tr>")
        options = "".join(f"<option>{name}</option>" for name in ALL_PERMISSIONS)
        note = f'<p class="note">{_E(message)}</p>' if message else ""
        return f"""<!doctype html><html><head><meta charset="utf-8"><title>Headwater users</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}form{{margin:1em 0}}.note{{background:#eef;padding:.5em}}</style>
</head><body><h1>Users and permissions</h1>{note}
<p>Default permission: {_E(self.service.default_permission.name)}. Signed in as {_E(admin.username)}.</p>
<table><tr><th>User</th><th>Admin</th><th>Permissions</th></tr>{''.join(rows)}</table>
<h2>Create a user</h2><form method="post" action="{_E(self.path)}/create-user">{hidden}
<input name="username" placeholder="username" required> <input name="password" type="password" placeholder="password" required>
<label><input type="checkbox" name="is_admin"> admin</label> <button>Create</button></form>
<h2>Grant or change a permission</h2><form method="post" action="{_E(self.path)}/grant">{hidden}
<select name="kind"><option value="experiment">experiment id</option><option value="registered_model">registered model</option></select>
<input name="key" placeholder="experiment id or model name" required> <input name="username" placeholder="username" required>
<select name="permission">{options}</select> <button>Grant</button></form>
<h2>Revoke a permission</h2><form method="post" action="{_E(self.path)}/revoke">{hidden}
<select name="kind"><option value="experiment">experiment id</option><option value="registered_model">registered model</option></select>
<input name="key" placeholder="experiment id or model name" required> <input name="username" placeholder="username" required>
<button>Revoke</button></form>
<h2>Delete a user</h2><form method="post" action="{_E(self.path)}/delete-user">{hidden}
<input name="username" placeholder="username" required> <button>Delete</button></form>
</body></html>"""


def _same_origin(request: Request) -> bool:
    """A form post must come from this host: its Origin (or Referer) must name the Host it was sent to."""
    host = request.headers.get("host", "")
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # no header to judge (non-browser clients); the CSRF token still has to match
    if source == "null":
        return False
    return urlsplit(source).netloc.lower() == host.lower()


__all__ = ["AdminPage", "PAGE_PATH", "csrf_token", "csrf_valid"]
