"""Headwater's audit log: an append-only, hash-chained JSON Lines record of every change.

Enable it on the server with ``HEADWATER_AUDIT_LOG=/path/to/audit.jsonl``;
check a log with ``headwater audit verify``. See docs/contrib/audit.md.
"""

from typing import Any

__all__ = ["AuditLog", "verify"]


def __getattr__(name: str) -> Any:
    # Lazy: `headwater --help` imports the CLI module, which must stay light.
    if name in __all__:
        from headwater_audit import chain

        return getattr(chain, name)
    raise AttributeError(name)
