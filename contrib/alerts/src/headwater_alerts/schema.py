"""The alerts' tables, in the tracking store's database, with their own Alembic chain."""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "headwater_alerts_alembic_version"
HEAD_REVISION = "al0001"

metadata = sa.MetaData()

alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("rule_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("filter", sa.Text, nullable=True),
    sa.Column("condition", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
)

# One row per rule and run that fired: each rule notifies once per run.
alert_firings = sa.Table(
    "alert_firings",
    metadata,
    sa.Column("rule_id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("fired_at", sa.BigInteger, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)
