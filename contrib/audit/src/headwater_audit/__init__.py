"""Headwater's audit log: an append-only, hash-chained JSON Lines record of every change.

Enable it on the server with ``HEADWATER_AUDIT_LOG=/path/to/audit.jsonl``;
check a log with ``headwater audit verify``. See docs/contrib/audit.md.
"""

from headwater_audit.chain import AuditLog, verify

__all__ = ["AuditLog", "verify"]
