"""Entry point of the ``audit`` plugin: an observer of every event, active when a log path is set.

``HEADWATER_AUDIT_LOG`` names the log file (without it, installing the
distribution changes nothing); ``HEADWATER_AUDIT_KEY`` makes the chain an
HMAC chain; ``HEADWATER_AUDIT_MAX_BYTES`` is the rotation size (default 100 MB).
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import Observer

from headwater_audit.config import KEY_ENV, LOG_ENV, MAX_BYTES_ENV


def audit_log_from_env(environ: dict[str, str] | None = None) -> Any:
    """The configured :class:`~headwater_audit.chain.AuditLog`, or None when auditing is off."""
    env = os.environ if environ is None else environ
    path = env.get(LOG_ENV)
    if not path:
        return None
    from headwater_audit.chain import DEFAULT_MAX_BYTES, AuditLog

    key = env.get(KEY_ENV)
    return AuditLog(path, key=key.encode("utf-8") if key else None,
                    max_bytes=int(env.get(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)))


@hookimpl
def headwater_observers() -> Iterator[Observer]:
    log = audit_log_from_env()
    if log is None:
        return

    def record(sender: Any, event: Any, **extra: Any) -> None:
        log.add(event)

    # Lines are written and fsynced once per delivered batch, before the outbox records it as delivered.
    yield Observer(name="audit", receivers={"*": record}, flush=log.flush)
