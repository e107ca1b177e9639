"""Alembic chains of plugins that keep tables in the store's database (webhooks, alerts, ...).

Each chain has its own version table, so it never touches the store's own
schema revision; upgrades take the same database-wide lock as the store's
migrations, so several server processes can start at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from headwater_store_sql.migrate import _migration_lock


def chain_revision(engine: Engine, version_table: str) -> str | None:
    """The revision recorded in ``version_table``; None before the first upgrade."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT version_num FROM {version_table}")).scalar()
    except sa.exc.DBAPIError:
        return None


def upgrade_chain(engine: Engine, script_location: str, version_table: str, head_revision: str) -> None:
    """Bring a plugin's tables to ``head_revision`` (one query when they are current).

    The chain's ``env.py`` reads the connection from ``config.attributes["connection"]``.
    """
    if chain_revision(engine, version_table) == head_revision:
        return
    from alembic import command
    from alembic.config import Config

    with _migration_lock(engine) as conn:
        config = Config()
        config.set_main_option("script_location", script_location)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
