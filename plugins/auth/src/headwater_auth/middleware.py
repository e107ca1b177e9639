"""The one enforcement point: an ASGI middleware every request passes through.

It wraps the whole application, so it sees every route: the tracking API,
the artifact proxy, the web UI and anything another plugin adds, including
paths no route matches. For each request it

1. checks the ``Host`` header against the allowed hosts (DNS rebinding);
2. finds the route's :class:`~headwater_auth.rules.Rule` and authenticates the
   caller (401 with ``WWW-Authenticate`` if that fails);
3. reads the resource the request names (query string or JSON body; the body
   is buffered and replayed, except for artifact uploads, which stream) and
   checks the caller's permission on it (403, or 404 for a missing resource);
4. runs the request with ``headwater.events.current_actor`` set to the user;
5. for a few routes, works on the answer: the creator of an experiment or
   registered model gets MANAGE on it, permissions follow a renamed or deleted
   model, and search results are filtered to what the caller may read.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, unquote

import orjson

from starlette.concurrency import run_in_threadpool

from headwater.events import current_actor
from headwater.exceptions import HeadwaterError
from headwater_server.wire import snake_keys

from headwater_auth.permissions import MANAGE
from headwater_auth.rules import Rule, rule_for
from headwater_auth.service import AuthService, Refusal, experiment_id
from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL, NeedsIO, User, io_allowed

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_PROXY_PATH = ("/artifacts/", "/mpu/create/", "/mpu/complete/", "/mpu/abort/", "/presigned/")
_BODY_LIMIT = 64 * 1024 * 1024


class AuthMiddleware:
    def __init__(self, app: Any, service: AuthService, static_prefix: str = "", max_body: int = _BODY_LIMIT):
        self.app = app
        self.service = service
        self.prefix = static_prefix
        self.max_body = max_body
        self.allowed_hosts = tuple(h.lower() for h in service.config.allowed_hosts)
        self._hosts_seen: dict[str, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        headers = _wanted_headers(scope)
        path = scope["path"]
        relative = path[len(self.prefix):] if self.prefix and path.startswith(self.prefix) else path
        method = scope.get("method", "GET").upper()
        if relative != "/health" and not self._host_allowed(headers.get("host", "")):
            await _answer(send, scope, Refusal(400, "BAD_REQUEST",
                                               "Invalid Host header: this server does not answer to that name"
                                               " (a DNS rebinding attempt?). Add it to the allowed hosts."))
            return
        rule = rule_for(method, relative)
        if rule.kind == "public":
            await self.app(scope, receive, send)
            return
        authenticated = await _decide(self.service.authenticate, headers.get("authorization"))
        if isinstance(authenticated, Refusal):
            if not self._may_sign_up(rule, method, relative):
                await _answer(send, scope, authenticated, {"WWW-Authenticate": 'Basic realm="headwater"'})
                return
            authenticated = None  # self sign-up: the endpoint handles the anonymous caller
        user: User | None = authenticated
        body = b""
        params: dict[str, Any] = {}
        if _reads_params(rule):
            # Artifact uploads stream through untouched: their path is all the check needs.
            if rule.kind != "artifact" and (method not in ("GET", "HEAD") or not scope.get("query_string")):
                body = await _read_body(receive, self.max_body)
                if body is None:
                    await _answer(send, scope, Refusal(413, "INVALID_PARAMETER_VALUE", "Request body too large"))
                    return
            params = _params(scope, method, relative, body, rule)
        if user is not None:
            refusal = await _decide(self.service.authorize, user, rule, params)
            if refusal is None and rule.after == "readable_experiment_ids" and not user.is_admin:
                body, refusal = await run_in_threadpool(self._readable_only, user, params, body)
            if refusal is not None:
                await _answer(send, scope, refusal)
                return
        scope.setdefault("state", {})["headwater_user"] = user
        replay = _replay(body, receive) if _reads_params(rule) and rule.kind != "artifact" else receive
        token = current_actor.set(user.username if user is not None else None)
        try:
            if rule.after and rule.after != "readable_experiment_ids" and user is not None:
                await self._with_answer(scope, replay, send, rule, user, params)
            else:
                await self.app(scope, replay, send)
        finally:
            current_actor.reset(token)

    # -- checks ------------------------------------------------------------------------------
    def _host_allowed(self, host_header: str) -> bool:
        known = self._hosts_seen.get(host_header)
        if known is None:
            known = self._judge_host(host_header)
            if len(self._hosts_seen) < 1000:  # a bounded memo: clients send the same few names
                self._hosts_seen[host_header] = known
        return known

    def _judge_host(self, host_header: str) -> bool:
        host = host_header.strip().lower()
        if host.startswith("["):
            host = host[1:].split("]", 1)[0]
        elif host.count(":") == 1:
            host = host.split(":", 1)[0]
        if not host:
            return False
        try:
            ipaddress.ip_address(host)
            return True  # an address literal cannot be re-pointed by DNS
        except ValueError:
            pass
        return any(pattern == "*" or fnmatch.fnmatchcase(host, pattern) for pattern in self.allowed_hosts)

    def _may_sign_up(self, rule: Rule, method: str, relative: str) -> bool:
        return (self.service.config.allow_signup and rule.kind == "account" and method == "POST"
                and relative.endswith("/mlflow/users/create"))

    def _readable_only(self, user: User, params: dict[str, Any], body: bytes) -> tuple[bytes, Refusal | None]:
        """Searches across experiments only search those the caller may read."""
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return body, None  # the endpoint answers the malformed body
        if not isinstance(data, dict):
            return body, None
        wanted = data.get("experiment_ids") or []
        if not isinstance(wanted, list):
            return body, None
        try:
            readable = [e for e in wanted if self.service.experiment_permission(user, experiment_id(e)).can_read]
        except Exception:
            return body, None  # malformed ids: the endpoint answers them
        if wanted and not readable:
            return body, Refusal(200, "", "")  # nothing readable: an empty answer
        data["experiment_ids"] = readable
        return json.dumps(data).encode(), None

    # -- work on the answer -----------------------------------------------------------------------
    async def _with_answer(self, scope: Scope, receive: Receive, send: Send, rule: Rule, user: User,
                           params: dict[str, Any]) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start.get("status") == 200:
            body = await run_in_threadpool(self._after, rule.after, user, params, body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 500), "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _after(self, after: str | None, user: User, params: dict[str, Any], body: bytes) -> bytes:
        service, store = self.service, self.service.store
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            return body
        if after == "grant_experiment" and answer.get("experiment_id") is not None:
            _grant(store, EXPERIMENT, str(answer["experiment_id"]), user)
        elif after == "grant_model" and params.get("name"):
            _grant(store, REGISTERED_MODEL, str(params["name"]), user)
        elif after == "rename_model" and params.get("name") and params.get("new_name"):
            store.rename_model(str(params["name"]), str(params["new_name"]))
        elif after == "forget_model" and params.get("name"):
            store.forget_model(str(params["name"]))
        elif after in _FILTERS and not user.is_admin:
            field, kind, key = _FILTERS[after]
            items = answer.get(field) or []
            kept = [item for item in items if service.can_read(user, kind, str(item.get(key, "")))]
            if len(kept) != len(items):
                if kept:
                    answer[field] = kept
                else:
                    answer.pop(field, None)
                return json.dumps(answer).encode()
        return body


_FILTERS = {
    "filter_experiments": ("experiments", EXPERIMENT, "experiment_id"),
    "filter_models": ("registered_models", REGISTERED_MODEL, "name"),
    "filter_versions": ("model_versions", REGISTERED_MODEL, "name"),
}


def _grant(store: Any, kind: str, key: str, user: User) -> None:
    if store.get_permission(kind, key, user.id) is None:
        store.create_permission(kind, key, user, MANAGE.name)
    else:
        store.update_permission(kind, key, user, MANAGE.name)


async def _decide(decision: Callable[..., Any], *args: Any) -> Any:
    """Run a decision on the event loop when caches answer it, else in a worker thread.

    Most requests are decided from the per-process caches in microseconds; a
    thread hop would cost more than the decision. Anything that needs the
    database or a password hash raises NeedsIO and is redone off the loop.
    """
    token = io_allowed.set(False)
    try:
        return decision(*args)
    except NeedsIO:
        pass
    finally:
        io_allowed.reset(token)
    return await run_in_threadpool(decision, *args)


def _wanted_headers(scope: Scope) -> dict[str, str]:
    """The two headers the checks read (the first of each, as the server reads them)."""
    found: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        name = key.lower()
        if name in (b"host", b"authorization", b"origin") and name.decode() not in found:
            found[name.decode()] = value.decode("latin-1")
    return found


def _reads_params(rule: Rule) -> bool:
    return rule.param is not None or rule.after in ("readable_experiment_ids", "grant_model", "rename_model",
                                                    "forget_model")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls wait for the disconnect, as the server would

    return replay


def _params(scope: Scope, method: str, relative: str, body: bytes, rule: Rule) -> dict[str, Any]:
    """The request's fields: the query string for GET (or its JSON body without one), else the body."""
    params: dict[str, Any] = {}
    query = scope.get("query_string", b"").decode("latin-1")
    if method in ("GET", "HEAD") and query:
        for key, values in parse_qs(query, keep_blank_values=True).items():
            params[key] = values if len(values) > 1 or key in ("run_id", "run_ids", "experiment_ids") else values[0]
    elif body:
        try:  # orjson, as the server parses: both read the same fields from the same bytes
            data = orjson.loads(body)
            if isinstance(data, str):  # legacy clients send JSON inside a JSON string
                data = orjson.loads(data)
        except orjson.JSONDecodeError:
            data = {}
        if isinstance(data, dict):
            try:
                params.update(snake_keys(data))  # the server reads camelCase keys as snake_case: so must we
            except HeadwaterError:
                params.update(data)  # both spellings: the server refuses the request itself
    if rule.kind == "logged_model":
        params["model_id"] = unquote(relative.split("/logged-models/", 1)[1].split("/", 1)[0])
    if rule.kind == "artifact":
        for marker in _PROXY_PATH:
            if marker in relative:
                params["path"] = relative.split(marker, 1)[1]
                break
    return params


async def _answer(send: Send, scope: Scope, refusal: Refusal, headers: dict[str, str] | None = None) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps(refusal.body() if refusal.status != 200 else {}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": refusal.status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
