"""Headwater's SQL tracking store: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy.

Importing this package is cheap (no SQLAlchemy): the CLI loads the plugin
entry point on every start. The store and the migration entry point load on
first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SqlTrackingStore", "upgrade_database"]


def upgrade_database(uri: str, revision: str = "head") -> str | None:
    """Migrate the database at ``uri`` to the newest schema (what ``headwater db upgrade`` runs)."""
    from headwater_store_sql.migrate import upgrade_database as upgrade

    return upgrade(uri, revision)


def __getattr__(name: str) -> Any:
    if name == "SqlTrackingStore":
        from headwater_store_sql.store import SqlTrackingStore

        return SqlTrackingStore
    raise AttributeError(f"module 'headwater_store_sql' has no attribute {name!r}")
