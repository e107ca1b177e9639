"""Users, tokens and permissions in SQL, with a per-process cache that stays honest.

Every change bumps ``generation`` in the ``headwater_auth_state`` row within
the same transaction. Reads are answered from a per-process cache, which is
dropped as soon as the process sees a new generation; it looks at most once
every ``cache_seconds`` (default 1 s, 0 = on every request). So a change made
through one server process applies there at once and in the others within
``cache_seconds``, while a request that changes nothing costs no query at all.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from headwater.exceptions import HeadwaterError
from headwater_store_sql.engine import create_engine, write_engine

from headwater_auth import migrate
from headwater_auth.schema import experiment_permissions, registered_model_permissions, state, tokens, users

T = TypeVar("T")


class NeedsIO(Exception):
    """Raised instead of waiting on the database while :data:`io_allowed` is False."""


#: False while the middleware tries to decide a request on the event loop from caches alone.
io_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("headwater_auth_io_allowed", default=True)


def forbid_io() -> None:
    if not io_allowed.get():
        raise NeedsIO()

EXPERIMENT = "experiment"
REGISTERED_MODEL = "registered_model"
_PERMISSION_TABLES = {
    EXPERIMENT: (experiment_permissions, experiment_permissions.c.experiment_id),
    REGISTERED_MODEL: (registered_model_permissions, registered_model_permissions.c.name),
}


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password_hash: str
    is_admin: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


@dataclass(frozen=True)
class Token:
    id: int
    user_id: int
    name: str
    created_at: int
    expires_at: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at, "expires_at": self.expires_at}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _user(row: Any) -> User:
    return User(id=row.id, username=row.username, password_hash=row.password_hash, is_admin=bool(row.is_admin))


class AuthStore:
    def __init__(self, database_uri: str, cache_seconds: float = 1.0):
        self.database_uri = database_uri
        self.engine = create_engine(database_uri)
        migrate.upgrade(self.engine)
        self._writer = write_engine(self.engine)
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._generation: int | None = None
        self._checked_at = 0.0

    def close(self) -> None:
        self.engine.dispose()

    # -- the cache ---------------------------------------------------------------------------
    def _cached(self, key: tuple[Any, ...], load: Callable[[], T]) -> T:
        now = time.monotonic()
        if now - self._checked_at >= self.cache_seconds:
            forbid_io()
            with self.engine.connect() as conn:
                generation = conn.execute(sa.select(state.c.generation).where(state.c.id == 1)).scalar()
            with self._lock:
                if generation != self._generation:
                    self._cache.clear()
                    self._generation = generation
                self._checked_at = now
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        forbid_io()
        value = load()
        with self._lock:
            self._cache[key] = value
        return value

    def _write(self, action: Callable[[Connection], T]) -> T:
        """Run ``action`` in a write transaction that also bumps the generation."""
        try:
            with self._writer.begin() as conn:
                result = action(conn)
                conn.execute(state.update().where(state.c.id == 1).values(generation=state.c.generation + 1))
        finally:
            with self._lock:
                self._cache.clear()
                self._checked_at = 0.0
        return result

    def secret(self) -> str:
        return self._cached(("secret",), lambda: self._read(lambda c: c.execute(
            sa.select(state.c.secret).where(state.c.id == 1)).scalar()))

    def _read(self, action: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return action(conn)

    # -- users ---------------------------------------------------------------------------------
    def has_users(self) -> bool:
        return self._read(lambda c: c.execute(sa.select(users.c.id).limit(1)).first() is not None)

    def get_user(self, username: str) -> User | None:
        def load() -> User | None:
            row = self._read(lambda c: c.execute(sa.select(users).where(users.c.username == username)).first())
            return _user(row) if row is not None else None

        return self._cached(("user", username), load)

    def require_user(self, username: str) -> User:
        user = self.get_user(username)
        if user is None:
            raise HeadwaterError.not_found(f"User with username={username} not found")
        return user

    def list_users(self) -> list[User]:
        return [_user(r) for r in self._read(lambda c: c.execute(sa.select(users).order_by(users.c.id)).all())]

    def create_user(self, username: str, password_hash: str, is_admin: bool = False) -> User:
        if self.get_user(username) is not None:
            raise HeadwaterError.already_exists(f"User '{username}' already exists")

        def insert(conn: Connection) -> None:
            conn.execute(users.insert().values(username=username, password_hash=password_hash,
                                               is_admin=is_admin, created_at=_now_ms()))

        try:
            self._write(insert)
        except sa.exc.IntegrityError:
            raise HeadwaterError.already_exists(f"User '{username}' already exists") from None
        return self.require_user(username)

    def _update_user(self, username: str, **values: Any) -> None:
        user = self.require_user(username)
        self._write(lambda conn: conn.execute(users.update().where(users.c.id == user.id).values(**values)))

    def update_password(self, username: str, password_hash: str) -> None:
        self._update_user(username, password_hash=password_hash)

    def update_admin(self, username: str, is_admin: bool) -> None:
        self._update_user(username, is_admin=is_admin)

    def delete_user(self, username: str) -> None:
        user = self.require_user(username)

        def delete(conn: Connection) -> None:  # explicit, since SQLite may run without cascades
            for table in (tokens, experiment_permissions, registered_model_permissions):
                conn.execute(table.delete().where(table.c.user_id == user.id))
            conn.execute(users.delete().where(users.c.id == user.id))

        self._write(delete)

    # -- tokens --------------------------------------------------------------------------------
    def create_token(self, user: User, digest: str, name: str, expires_at: int) -> Token:
        def insert(conn: Connection) -> int:
            return conn.execute(tokens.insert().values(user_id=user.id, digest=digest, name=name,
                                                       created_at=_now_ms(), expires_at=expires_at)).inserted_primary_key[0]

        token_id = self._write(insert)
        return Token(id=token_id, user_id=user.id, name=name, created_at=_now_ms(), expires_at=expires_at)

    def user_for_token(self, digest: str) -> tuple[User, int] | None:
        """The token's user and expiry (ms), or None for an unknown token."""
        def load() -> tuple[User, int] | None:
            row = self._read(lambda c: c.execute(
                sa.select(users, tokens.c.expires_at).join(tokens, tokens.c.user_id == users.c.id)
                .where(tokens.c.digest == digest)).first())
            return (_user(row), int(row.expires_at)) if row is not None else None

        return self._cached(("token", digest), load)

    def list_tokens(self, user: User) -> list[Token]:
        rows = self._read(lambda c: c.execute(
            sa.select(tokens).where(tokens.c.user_id == user.id).order_by(tokens.c.id)).all())
        return [Token(id=r.id, user_id=r.user_id, name=r.name, created_at=r.created_at, expires_at=r.expires_at)
                for r in rows]

    def delete_token(self, user: User, token_id: int) -> None:
        def delete(conn: Connection) -> int:
            return conn.execute(tokens.delete().where(tokens.c.id == token_id, tokens.c.user_id == user.id)).rowcount

        if not self._write(delete):
            raise HeadwaterError.not_found(f"Token {token_id} of user '{user.username}' not found")

    # -- permissions ---------------------------------------------------------------------------
    def get_permission(self, kind: str, key: str, user_id: int) -> str | None:
        table, column = _PERMISSION_TABLES[kind]

        def load() -> str | None:
            return self._read(lambda c: c.execute(
                sa.select(table.c.permission).where(column == key, table.c.user_id == user_id)).scalar())

        return self._cached(("permission", kind, key, user_id), load)

    def create_permission(self, kind: str, key: str, user: User, permission: str) -> None:
        if self.get_permission(kind, key, user.id) is not None:
            raise HeadwaterError.already_exists(
                f"{_label(kind)} permission ({key}, {user.username}) already exists")
        table, column = _PERMISSION_TABLES[kind]
        try:
            self._write(lambda conn: conn.execute(
                table.insert().values({column.name: key, "user_id": user.id, "permission": permission})))
        except sa.exc.IntegrityError:
            raise HeadwaterError.already_exists(
                f"{_label(kind)} permission ({key}, {user.username}) already exists") from None

    def update_permission(self, kind: str, key: str, user: User, permission: str) -> None:
        table, column = _PERMISSION_TABLES[kind]
        changed = self._write(lambda conn: conn.execute(
            table.update().where(column == key, table.c.user_id == user.id).values(permission=permission)).rowcount)
        if not changed:
            raise HeadwaterError.not_found(f"{_label(kind)} permission ({key}, {user.username}) not found")

    def delete_permission(self, kind: str, key: str, user: User) -> None:
        table, column = _PERMISSION_TABLES[kind]
        changed = self._write(lambda conn: conn.execute(
            table.delete().where(column == key, table.c.user_id == user.id)).rowcount)
        if not changed:
            raise HeadwaterError.not_found(f"{_label(kind)} permission ({key}, {user.username}) not found")

    def permissions_of(self, user: User) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for kind, (table, column) in _PERMISSION_TABLES.items():
            rows = self._read(lambda c: c.execute(
                sa.select(column, table.c.permission).where(table.c.user_id == user.id).order_by(column)).all())
            out[kind] = [{column.name: row[0], "user_id": user.id, "permission": row[1]} for row in rows]
        return out

    def rename_model(self, old: str, new: str) -> None:
        column = registered_model_permissions.c.name
        self._write(lambda conn: conn.execute(
            registered_model_permissions.update().where(column == old).values(name=new)))

    def forget_model(self, name: str) -> None:
        column = registered_model_permissions.c.name
        self._write(lambda conn: conn.execute(registered_model_permissions.delete().where(column == name)))


def _label(kind: str) -> str:
    return "Experiment" if kind == EXPERIMENT else "Registered model"
