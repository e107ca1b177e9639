"""Entry point of the ``auth`` plugin: a server extension, active only when enabled.

``headwater server --app-name basic-auth`` or ``HEADWATER_AUTH=1`` enables it
(see :mod:`headwater_auth.config`); otherwise installing the distribution
changes nothing. When enabled it installs one ASGI middleware in front of
every route (:mod:`headwater_auth.middleware`), the account and permission
endpoints, and the admin page. If it cannot start (no admin password for an
empty user table, an unreachable database), the server refuses to start
rather than serve without authentication.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import ServerExtension

log = logging.getLogger("headwater.auth")


def install(app: Any) -> None:
    from headwater_auth.config import AuthConfig

    config = AuthConfig.load()
    if not config.enabled:
        return
    from headwater_auth.admin_page import AdminPage
    from headwater_auth.api import AuthApi
    from headwater_auth.middleware import AuthMiddleware
    from headwater_auth.service import AuthService
    from headwater_auth.store import AuthStore

    state = app.state
    config = config.with_database(getattr(state.config, "backend_store_uri", None))
    store = AuthStore(config.database_uri, cache_seconds=config.cache_seconds)

    def registry() -> Any:
        try:
            return state.plugin_manager.registry_store(state.registry_store_uri)
        except Exception:  # no registry plugin for this URI
            return None

    service = AuthService(config, store, state.store, registry)
    service.bootstrap_admin()
    state.auth = service
    prefix = state.static_prefix
    # After the tracking routes: Starlette tries routes in order, so routes placed first would
    # cost every tracking request a few dozen failed matches.
    app.router.routes.extend(AuthApi(service, registry).routes(prefix) + AdminPage(service, prefix).routes())
    app.add_middleware(AuthMiddleware, service=service, static_prefix=prefix, max_body=state.max_request_bytes)
    log.info("authentication enabled (default permission %s)", config.default_permission)


@hookimpl
def headwater_server_extensions() -> Iterator[ServerExtension]:
    yield ServerExtension(name="auth", install=install)
