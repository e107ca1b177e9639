"""Who is calling, and may they: the decisions behind the enforcement point.

:class:`AuthService` authenticates a request's ``Authorization`` header (HTTP
Basic with a password, or Bearer with an access token) and decides whether the
user may do what a :class:`~headwater_auth.rules.Rule` asks, on the resource
the request names. It never raises for a refusal: it returns a
:class:`Refusal` that the middleware turns into MLflow's error answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.artifacts import safe_relative_path

from headwater_auth.config import AuthConfig
from headwater_auth.passwords import check_password_rules, hash_password, token_digest, verify_password
from headwater_auth.permissions import MANAGE, Permission, get_permission
from headwater_auth.rules import Rule
from headwater_auth.store import EXPERIMENT, REGISTERED_MODEL, AuthStore, User, forbid_io

NOT_AUTHENTICATED = (
    "You are not authenticated. Send HTTP Basic credentials (MLFLOW_TRACKING_USERNAME and"
    " MLFLOW_TRACKING_PASSWORD) or a Bearer access token (MLFLOW_TRACKING_TOKEN)."
)


@dataclass(frozen=True)
class Refusal:
    status: int
    error_code: str
    message: str

    def body(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


UNAUTHENTICATED = Refusal(401, ErrorCode.UNAUTHENTICATED.value, NOT_AUTHENTICATED)
DENIED = Refusal(403, ErrorCode.PERMISSION_DENIED.value, "Permission denied")


def refusal_for(error: HeadwaterError) -> Refusal:
    code = error.error_code.value if isinstance(error.error_code, ErrorCode) else str(error.error_code)
    return Refusal(error.http_status, code, error.message)


class _Lru:
    """A small thread-safe LRU map for facts that never change (a run's experiment)."""

    def __init__(self, size: int = 100_000):
        self._data: OrderedDict[str, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], str]) -> str:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        forbid_io()
        value = load()
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return value


class AuthService:
    def __init__(self, config: AuthConfig, store: AuthStore, tracking: Any, registry: Callable[[], Any] | None = None):
        self.config = config
        self.store = store
        self.tracking = tracking  # the server's tracking store
        self.registry = registry  # returns the registry store, if one is installed
        self.default_permission = get_permission(config.default_permission)
        self._run_experiments = _Lru()
        self._model_experiments = _Lru()
        # Passwords already verified, keyed by a salted digest, with the hash they matched:
        # a changed password (a different hash) is verified afresh, so nothing stale is honoured.
        self._verified: dict[str, str] = {}
        self._verified_lock = threading.Lock()
        self._salt = os.urandom(16)

    # -- accounts -----------------------------------------------------------------------------
    def bootstrap_admin(self) -> None:
        """Create the first admin of an empty user table from the configured credentials."""
        if self.store.has_users():
            return
        if not self.config.admin_password:
            raise HeadwaterError.invalid(
                "Authentication is enabled and no user exists yet: set HEADWATER_AUTH_ADMIN_PASSWORD"
                " (or MLFLOW_AUTH_ADMIN_PASSWORD, or admin_password in the auth config file) to create"
                f" the first admin, {self.config.admin_username!r}."
            )
        self.check_password(self.config.admin_password, self.config.admin_username)
        try:
            self.store.create_user(self.config.admin_username, hash_password(self.config.admin_password), True)
        except HeadwaterError as exc:
            if exc.error_code != ErrorCode.RESOURCE_ALREADY_EXISTS:  # another process got there first
                raise

    def check_password(self, password: Any, username: str) -> None:
        check_password_rules(password, username, self.config.password_min_length, self.config.password_min_classes)

    # -- authentication --------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> User | Refusal:
        if not authorization:
            return UNAUTHENTICATED
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                username, sep, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return UNAUTHENTICATED
            if not sep:
                return UNAUTHENTICATED
            user = self.store.get_user(username)
            if user is None or not self._password_matches(user, password):
                return UNAUTHENTICATED
            return user
        if scheme == "bearer":
            found = self.store.user_for_token(token_digest(credentials.strip()))
            if found is None:
                return UNAUTHENTICATED
            user, expires_at = found
            if expires_at <= time.time() * 1000:
                return Refusal(401, ErrorCode.UNAUTHENTICATED.value, "The access token has expired.")
            return user
        return UNAUTHENTICATED

    def _password_matches(self, user: User, password: str) -> bool:
        key = hmac.new(self._salt, f"{user.id}\0{password}".encode(), hashlib.sha256).hexdigest()
        with self._verified_lock:
            if self._verified.get(key) == user.password_hash:
                return True
        forbid_io()  # hashing takes a tenth of a second: never on the event loop
        if not verify_password(user.password_hash, password):
            return False
        with self._verified_lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = user.password_hash
        return True

    # -- permissions -------------------------------------------------------------------------------
    def permission(self, user: User, kind: str, key: str) -> Permission:
        if user.is_admin:
            return MANAGE
        name = self.store.get_permission(kind, key, user.id)
        return get_permission(name) if name else self.default_permission

    def experiment_permission(self, user: User, experiment_id: str) -> Permission:
        return self.permission(user, EXPERIMENT, experiment_id)

    def model_permission(self, user: User, name: str) -> Permission:
        return self.permission(user, REGISTERED_MODEL, name)

    def experiment_of_run(self, run_id: str) -> str:
        return self._run_experiments.get(run_id, lambda: str(self.tracking.get_run(run_id).info.experiment_id))

    def experiment_of_logged_model(self, model_id: str) -> str:
        def load() -> str:
            getter = getattr(self.tracking, "get_logged_model", None)
            if getter is None:
                raise HeadwaterError.not_found(f"Logged model '{model_id}' not found")
            return str(getter(model_id).experiment_id)

        return self._model_experiments.get(model_id, load)

    def authorize(self, user: User, rule: Rule, params: dict[str, Any]) -> Refusal | None:
        """None if ``user`` may go on; otherwise the refusal (403, or 400/404 for bad ids)."""
        if rule.kind in ("public", "user", "account"):
            return None
        if rule.kind == "admin":
            return None if user.is_admin else DENIED
        try:
            allowed = self._allowed(user, rule, params)
        except HeadwaterError as error:
            return refusal_for(error)
        return None if allowed else DENIED

    def _allowed(self, user: User, rule: Rule, params: dict[str, Any]) -> bool:
        action = rule.action
        if user.is_admin:
            self._check_ids(rule, params)  # bad ids are 400/404 for admins too, never a 500
            return True
        if rule.kind == "experiment":
            return self.experiment_permission(user, experiment_id(_required(params, rule.param))).allows(action)
        if rule.kind == "experiments":
            ids = _many(params, rule.param)
            return bool(ids) and all(self.experiment_permission(user, experiment_id(i)).allows(action) for i in ids)
        if rule.kind == "experiment_name":
            experiment = self._experiment_by_name(_required(params, rule.param))
            return self.experiment_permission(user, str(experiment.experiment_id)).allows(action)
        if rule.kind == "run":
            run = _required(params, "run_id", "run_uuid")
            return self.experiment_permission(user, self.experiment_of_run(run)).allows(action)
        if rule.kind == "runs":
            runs = _many(params, rule.param)
            return bool(runs) and all(
                self.experiment_permission(user, self.experiment_of_run(r)).allows(action) for r in runs)
        if rule.kind == "run_or_logged_model":  # the run when one is named, as the endpoint reads it
            run = _first(params, "run_id", "run_uuid")
            experiment = (self.experiment_of_run(run) if run
                          else self.experiment_of_logged_model(_required(params, "model_id")))
            return self.experiment_permission(user, experiment).allows(action)
        if rule.kind == "logged_model":
            model = _required(params, "model_id")
            return self.experiment_permission(user, self.experiment_of_logged_model(model)).allows(action)
        if rule.kind == "model":
            return self.model_permission(user, _required(params, "name")).allows(action)
        if rule.kind == "model_version_create":
            if not self.model_permission(user, _required(params, "name")).allows(action):
                return False
            return all(self.experiment_permission(user, e).can_read for e in self._source_experiments(params))
        if rule.kind == "artifact":
            return self._artifact_permission(user, params.get("path")).allows(action)
        return False

    def _source_experiments(self, params: dict[str, Any]) -> list[str]:
        """The experiments whose artifacts a new model version would point at."""
        found = []
        if params.get("run_id"):
            found.append(self.experiment_of_run(str(params["run_id"])))
        source = str(params.get("source") or "")
        if source.startswith("runs:/"):
            found.append(self.experiment_of_run(source[len("runs:/"):].lstrip("/").split("/", 1)[0]))
        elif source.startswith("models:/m-"):
            found.append(self.experiment_of_logged_model(source[len("models:/"):].split("/", 1)[0]))
        elif source.startswith("mlflow-artifacts:"):
            path = source.split(":", 1)[1].lstrip("/")
            if "//" in source[:len("mlflow-artifacts://")]:
                path = path.split("/", 1)[1] if "/" in path else ""
            first = path.split("/", 1)[0]
            if first.isascii() and first.isdigit():
                found.append(str(int(first)))
        if params.get("model_id"):
            found.append(self.experiment_of_logged_model(str(params["model_id"])))
        return found

    def _check_ids(self, rule: Rule, params: dict[str, Any]) -> None:
        if rule.kind == "experiment":
            experiment_id(_required(params, rule.param))
        elif rule.kind == "experiments":
            for value in _many(params, rule.param):
                experiment_id(value)

    def _experiment_by_name(self, name: str) -> Any:
        forbid_io()
        experiment = self.tracking.get_experiment_by_name(name)
        if experiment is None:
            raise HeadwaterError.not_found(f"Could not find experiment with name {name}")
        return experiment

    def _artifact_permission(self, user: User, path: Any) -> Permission:
        try:
            relative = safe_relative_path(path if isinstance(path, str) else None)
        except HeadwaterError:
            raise HeadwaterError.invalid("Invalid path") from None
        first = relative.split("/", 1)[0] if relative else ""
        if first.isascii() and first.isdigit():
            return self.experiment_permission(user, str(int(first)))
        return self.default_permission  # outside any experiment's folder, as MLflow does

    def can_read(self, user: User, kind: str, key: str) -> bool:
        return self.permission(user, kind, key).can_read


def experiment_id(value: Any) -> str:
    """The canonical experiment id ("007" and "7" are one experiment); 400 for a non-number."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        raise HeadwaterError.invalid(f"Invalid experiment ID '{value}'")
    return str(int(text))


def _first(params: dict[str, Any], *names: str | None) -> str | None:
    """The first of ``names`` given a value (the first of a repeated one), as the server reads it."""
    for name in names:
        if name is None:
            continue
        value = params.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return str(value)
    return None


def _required(params: dict[str, Any], *names: str | None) -> str:
    value = _first(params, *names)
    if value is not None:
        return value
    raise HeadwaterError.invalid(
        f"Missing value for required parameter '{names[0]}'. See the API docs for more information"
        " about request parameters."
    )


def _many(params: dict[str, Any], name: str | None) -> list[str]:
    value = params.get(name or "")
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v not in (None, "")]


__all__ = ["AuthService", "DENIED", "Refusal", "UNAUTHENTICATED", "experiment_id", "hash_password"]
