"""REST endpoints for users, access tokens and permissions, on MLflow's paths.

MLflow's ``AuthServiceClient`` and scripts written for MLflow's basic auth
call these unchanged: ``users/create|get|update-password|update-admin|delete``,
``experiments/permissions/create|get|update|delete``,
``registered-models/permissions/create|get|update|delete`` (each under
``/api/2.0/mlflow`` and ``/ajax-api/2.0/mlflow``) and the 3.x
``users/permissions/grant|revoke|get``. Access tokens are Headwater's own:
``users/tokens/create|list|delete``.

The middleware has already authenticated the caller; each endpoint checks
what the caller may do here (admin, self, or MANAGE on the resource).
"""

from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from headwater.exceptions import ErrorCode, HeadwaterError

from headwater_auth.passwords import hash_password, new_token, token_digest, verify_password
from headwater_auth.permissions import get_permission
from headwater_auth.service import AuthService, experiment_id
from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL, User

API_ROOTS = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/3.0/mlflow", "/ajax-api/3.0/mlflow")
_DAY_MS = 24 * 3600 * 1000
_RESOURCE_TYPES = {"experiment": EXPERIMENT, "registered_model": REGISTERED_MODEL}


def _denied() -> HeadwaterError:
    return HeadwaterError("Permission denied", ErrorCode.PERMISSION_DENIED)


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":  # forms cannot forge a JSON request across sites
            raise HeadwaterError.invalid("Bad Request. Content-Type must be application/json.")
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
        if isinstance(data, str):
            data = json.loads(data)
    except ValueError:
        raise HeadwaterError(f"Malformed JSON body: {raw[:100]!r}", ErrorCode.BAD_REQUEST) from None
    if not isinstance(data, dict):
        raise HeadwaterError("The request body must be a JSON object", ErrorCode.BAD_REQUEST)
    return data


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value in (None, "") or not isinstance(value, (str, int)):
        raise HeadwaterError.invalid(
            f"Missing value for required parameter '{name}'. See the API docs for more information about"
            " request parameters.")
    return str(value)


def _bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise HeadwaterError.invalid(f"Parameter '{name}' must be true or false")


class AuthApi:
    def __init__(self, service: AuthService, registry: Callable[[], Any] | None):
        self.service = service
        self.store = service.store
        self.registry = registry

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def caller(request: Request) -> User | None:
        return request.scope.get("state", {}).get("headwater_user")

    def _admin(self, request: Request) -> User:
        user = self.caller(request)
        if user is None or not user.is_admin:
            raise _denied()
        return user

    def _self_or_admin(self, request: Request, username: str) -> User:
        user = self.caller(request)
        if user is None or not (user.is_admin or user.username == username):
            raise _denied()
        return user

    def _user_json(self, user: User) -> dict[str, Any]:
        permissions = self.store.permissions_of(user)
        return {**user.to_json(), "experiment_permissions": permissions[EXPERIMENT],
                "registered_model_permissions": permissions[REGISTERED_MODEL]}

    def _resource(self, kind: str, key: str) -> str:
        """The canonical key of an existing resource; RESOURCE_DOES_NOT_EXIST otherwise."""
        if kind == EXPERIMENT:
            key = experiment_id(key)
            self.service.tracking.get_experiment(key)  # raises RESOURCE_DOES_NOT_EXIST
            return key
        registry = self.registry() if self.registry else None
        if registry is None:
            raise HeadwaterError("No model registry is configured", ErrorCode.INVALID_STATE)
        registry.get_registered_model(key)  # raises RESOURCE_DOES_NOT_EXIST
        return key

    def _may_manage(self, request: Request, kind: str, key: str) -> None:
        user = self.caller(request)
        if user is None or not self.service.permission(user, kind, key).can_manage:
            raise _denied()

    # -- users ----------------------------------------------------------------------------------
    def create_user(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(request)
        if caller is None:
            if not self.service.config.allow_signup:
                raise _denied()
        elif not caller.is_admin and not self.service.config.allow_signup:
            raise _denied()
        username, password = _text(params, "username"), params.get("password")
        if len(username) > 255 or username != username.strip() or ":" in username:
            raise HeadwaterError.invalid("Invalid username: at most 255 characters, no ':' or outer spaces")
        self.service.check_password(password, username)
        user = self.store.create_user(username, hash_password(password), False)
        return {"user": user.to_json()}

    def get_user(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        username = _text(params, "username")
        self._self_or_admin(request, username)
        return {"user": self._user_json(self.store.require_user(username))}

    def current_user(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        user = self.caller(request)
        if user is None:
            raise _denied()
        return {"user": self._user_json(user)}

    def list_users(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        self._admin(request)
        return {"users": [u.to_json() for u in self.store.list_users()]}

    def update_password(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        username, password = _text(params, "username"), params.get("password")
        caller = self._self_or_admin(request, username)
        target = self.store.require_user(username)
        if not caller.is_admin:  # self-service needs the current password, so a stolen session is not enough
            current = params.get("current_password")
            if not isinstance(current, str) or not verify_password(target.password_hash, current):
                raise HeadwaterError.invalid("The current password is missing or wrong")
        self.service.check_password(password, username)
        self.store.update_password(username, hash_password(password))
        return {}

    def update_admin(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        self._admin(request)
        username, is_admin = _text(params, "username"), _bool(params, "is_admin")
        self.store.require_user(username)
        self.store.update_admin(username, is_admin)
        return {}

    def delete_user(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        caller = self._admin(request)
        username = _text(params, "username")
        if username == caller.username:
            raise HeadwaterError.invalid("Admins cannot delete themselves")
        self.store.delete_user(username)
        return {}

    # -- tokens ----------------------------------------------------------------------------------
    def create_token(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(request)
        if caller is None:
            raise _denied()
        username = str(params.get("username") or caller.username)
        self._self_or_admin(request, username)
        owner = self.store.require_user(username)
        max_days = self.service.config.token_max_days
        try:
            days = float(params.get("expires_in_days", 30))
        except (TypeError, ValueError):
            days = -1
        if not 0 < days <= max_days:
            raise HeadwaterError.invalid(f"expires_in_days must be more than 0 and at most {max_days}")
        token = new_token()
        record = self.store.create_token(owner, token_digest(token), str(params.get("name") or "token")[:255],
                                         int(time.time() * 1000 + days * _DAY_MS))
        return {"token": token, "token_info": record.to_json()}

    def list_tokens(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(request)
        username = str(params.get("username") or (caller.username if caller else ""))
        self._self_or_admin(request, username)
        return {"tokens": [t.to_json() for t in self.store.list_tokens(self.store.require_user(username))]}

    def delete_token(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(request)
        username = str(params.get("username") or (caller.username if caller else ""))
        self._self_or_admin(request, username)
        try:
            token_id = int(_text(params, "token_id"))
        except ValueError:
            raise HeadwaterError.invalid("token_id must be a number") from None
        self.store.delete_token(self.store.require_user(username), token_id)
        return {}

    # -- permissions ---------------------------------------------------------------------------------
    def _permission_endpoint(self, kind: str, key_name: str, verb: str) -> Callable[[Request, dict[str, Any]], dict[str, Any]]:
        response_key = "experiment_permission" if kind == EXPERIMENT else "registered_model_permission"

        def endpoint(request: Request, params: dict[str, Any]) -> dict[str, Any]:
            key = self._resource(kind, _text(params, key_name))
            self._may_manage(request, kind, key)
            user = self.store.require_user(_text(params, "username"))
            if verb == "get":
                name = self.store.get_permission(kind, key, user.id)
                if name is None:
                    raise HeadwaterError.not_found(
                        f"{'Experiment' if kind == EXPERIMENT else 'Registered model'} permission with"
                        f" {key_name}={key} and username={user.username} not found")
                return {response_key: {key_name: key, "user_id": user.id, "permission": name}}
            if verb == "delete":
                self.store.delete_permission(kind, key, user)
                return {}
            permission = get_permission(_text(params, "permission")).name
            if verb == "create":
                self.store.create_permission(kind, key, user, permission)
                return {response_key: {key_name: key, "user_id": user.id, "permission": permission}}
            self.store.update_permission(kind, key, user, permission)
            return {}

        return endpoint

    def _unified(self, verb: str) -> Callable[[Request, dict[str, Any]], dict[str, Any]]:
        def endpoint(request: Request, params: dict[str, Any]) -> dict[str, Any]:
            resource_type = _text(params, "resource_type")
            kind = _RESOURCE_TYPES.get(resource_type)
            if kind is None:
                raise HeadwaterError.invalid(
                    f"Unsupported resource_type {resource_type!r}; use one of {sorted(_RESOURCE_TYPES)}")
            username = _text(params, "username")
            key = self._resource(kind, _text(params, "resource_id"))
            if verb == "get":
                self._self_or_admin(request, username)
                permission = self.service.permission(self.store.require_user(username), kind, key)
                return {"allowed": permission.can_read, "permission": permission.name}
            self._may_manage(request, kind, key)
            user = self.store.require_user(username)
            if verb == "revoke":
                self.store.delete_permission(kind, key, user)
                return {}
            permission = get_permission(_text(params, "permission")).name
            if self.store.get_permission(kind, key, user.id) is None:
                self.store.create_permission(kind, key, user, permission)
            else:
                self.store.update_permission(kind, key, user, permission)
            return {}

        return endpoint

    # -- routing ---------------------------------------------------------------------------------------
    def routes(self, static_prefix: str = "") -> list[Route]:
        table: list[tuple[str, str, Callable[[Request, dict[str, Any]], dict[str, Any]]]] = [
            ("users/create", "POST", self.create_user),
            ("users/get", "GET", self.get_user),
            ("users/current", "GET", self.current_user),
            ("users/list", "GET", self.list_users),
            ("users/update-password", "PATCH", self.update_password),
            ("users/update-admin", "PATCH", self.update_admin),
            ("users/delete", "DELETE", self.delete_user),
            ("users/tokens/create", "POST", self.create_token),
            ("users/tokens/list", "GET", self.list_tokens),
            ("users/tokens/delete", "DELETE", self.delete_token),
            ("users/permissions/grant", "POST", self._unified("grant")),
            ("users/permissions/revoke", "POST", self._unified("revoke")),
            ("users/permissions/get", "GET", self._unified("get")),
        ]
        methods = {"create": "POST", "get": "GET", "update": "PATCH", "delete": "DELETE"}
        for kind, path, key_name in ((EXPERIMENT, "experiments", "experiment_id"),
                                     (REGISTERED_MODEL, "registered-models", "name")):
            for verb, method in methods.items():
                table.append((f"{path}/permissions/{verb}", method, self._permission_endpoint(kind, key_name, verb)))
        routes = []
        for root in API_ROOTS:
            for path, method, handler in table:
                routes.append(Route(f"{static_prefix}{root}/{path}", _endpoint(handler), methods=[method],
                                    include_in_schema=False))
        return routes


def _endpoint(handler: Callable[[Request, dict[str, Any]], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        params = await _params(request)
        return JSONResponse(await run_in_threadpool(handler, request, params))

    return endpoint
