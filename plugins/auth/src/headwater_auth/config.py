"""Auth settings: an INI file and environment variables (the environment wins).

Auth is **off** unless enabled, so installing the distribution never locks an
existing deployment: ``headwater server --app-name basic-auth`` (as with
``mlflow server``) or ``HEADWATER_AUTH=1`` turns it on.

The file is ``HEADWATER_AUTH_CONFIG`` (or MLflow's ``MLFLOW_AUTH_CONFIG_PATH``);
its ``[headwater]`` section is read, or MLflow's ``[mlflow]`` section, so an
existing ``basic_auth.ini`` works. Keys, with their environment variables:

======================  ==================================  ===================================
key                     environment                         default
======================  ==================================  ===================================
default_permission      HEADWATER_AUTH_DEFAULT_PERMISSION   READ
database_uri            HEADWATER_AUTH_DATABASE_URI         the server's backend store URI
admin_username          HEADWATER_AUTH_ADMIN_USERNAME,      admin
                        MLFLOW_AUTH_ADMIN_USERNAME
admin_password          HEADWATER_AUTH_ADMIN_PASSWORD,      none: required to create the first
                        MLFLOW_AUTH_ADMIN_PASSWORD          admin of an empty user table
allowed_hosts           HEADWATER_AUTH_ALLOWED_HOSTS        (added to localhost and IP addresses)
allow_signup            HEADWATER_AUTH_ALLOW_SIGNUP         false: only admins create users
password_min_length     HEADWATER_AUTH_PASSWORD_MIN_LENGTH  12
password_min_classes    HEADWATER_AUTH_PASSWORD_MIN_CLASSES 2 (of lower, upper, digit, symbol)
token_max_days          HEADWATER_AUTH_TOKEN_MAX_DAYS       365
cache_seconds           HEADWATER_AUTH_CACHE_SECONDS        1.0
======================  ==================================  ===================================
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, replace
from typing import Mapping

from headwater.exceptions import HeadwaterError

from headwater_auth.permissions import get_permission

APP_NAME = "basic-auth"
_TRUE = ("1", "true", "yes", "on")
_DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class AuthConfig:
    enabled: bool = False
    default_permission: str = "READ"
    database_uri: str | None = None
    admin_username: str = "admin"
    admin_password: str | None = None
    allowed_hosts: tuple[str, ...] = _DEFAULT_HOSTS
    allow_signup: bool = False
    password_min_length: int = 12
    password_min_classes: int = 2
    token_max_days: int = 365
    cache_seconds: float = 1.0

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> "AuthConfig":
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        path = env.get("HEADWATER_AUTH_CONFIG") or env.get("MLFLOW_AUTH_CONFIG_PATH")
        if path:
            parser = configparser.ConfigParser()
            if not parser.read(path):
                raise HeadwaterError.invalid(f"The auth configuration file {path!r} could not be read")
            section = "headwater" if parser.has_section("headwater") else "mlflow"
            if parser.has_section(section):
                values.update(parser[section])
        for key in ("default_permission", "database_uri", "admin_username", "admin_password", "allowed_hosts",
                    "allow_signup", "password_min_length", "password_min_classes", "token_max_days",
                    "cache_seconds"):
            for name in (f"HEADWATER_AUTH_{key.upper()}", f"MLFLOW_AUTH_{key.upper()}"):
                if env.get(name) not in (None, "") and (name.startswith("HEADWATER") or key.startswith("admin")):
                    values[key] = env[name]
                    break
        enabled = (env.get("HEADWATER_AUTH", "").lower() in _TRUE
                   or env.get("HEADWATER_APP_NAME", "") == APP_NAME)
        return cls.from_values(values, enabled=enabled)

    @classmethod
    def from_values(cls, values: Mapping[str, str], enabled: bool) -> "AuthConfig":
        def number(key: str, default: float, kind: type = int) -> float:
            raw = values.get(key)
            if raw in (None, ""):
                return default
            try:
                return kind(raw)
            except ValueError:
                raise HeadwaterError.invalid(f"Auth setting {key} must be a number, got {raw!r}") from None

        hosts = values.get("allowed_hosts")
        config = cls(
            enabled=enabled,
            default_permission=get_permission(values.get("default_permission") or "READ").name,
            database_uri=values.get("database_uri") or None,
            admin_username=values.get("admin_username") or "admin",
            admin_password=values.get("admin_password") or None,
            # Local names stay allowed: a rebinding attack arrives with the attacker's name, never these.
            allowed_hosts=_DEFAULT_HOSTS + tuple(h.strip() for h in (hosts or "").split(",") if h.strip()),
            allow_signup=str(values.get("allow_signup", "")).lower() in _TRUE,
            password_min_length=int(number("password_min_length", 12)),
            password_min_classes=int(number("password_min_classes", 2)),
            token_max_days=int(number("token_max_days", 365)),
            cache_seconds=float(number("cache_seconds", 1.0, float)),
        )
        if config.password_min_length < 8:
            raise HeadwaterError.invalid("Auth setting password_min_length may not be below 8")
        if not 0 <= config.password_min_classes <= 4:
            raise HeadwaterError.invalid("Auth setting password_min_classes must be between 0 and 4")
        return config

    def with_database(self, backend_store_uri: str | None) -> "AuthConfig":
        """The database defaults to the tracking store's, when that is a SQL database."""
        if self.database_uri or not backend_store_uri:
            return self
        scheme = backend_store_uri.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme in ("sqlite", "postgresql", "mysql", "mariadb"):
            return replace(self, database_uri=backend_store_uri)
        return replace(self, database_uri="sqlite:///basic_auth.db")
