"""The webhooks' tables, in the tracking store's database, with their own Alembic chain."""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "headwater_webhooks_alembic_version"
HEAD_REVISION = "w0001"

metadata = sa.MetaData()

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("webhook_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # JSON: [["model_version", "created"], ...]
    sa.Column("experiment_ids", sa.Text, nullable=True),  # JSON list, or NULL: any
    sa.Column("model_names", sa.Text, nullable=True),  # JSON list, or NULL: any
    sa.Column("secret", sa.Text, nullable=True),  # Fernet token
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("webhook_id", sa.String(32), primary_key=True),
    sa.Column("event_id", sa.String(32), primary_key=True),
    sa.Column("delivery_id", sa.String(36), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # delivered | failed | refused
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("first_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("last_attempt_at", sa.BigInteger, nullable=False),
    sa.Index("ix_webhook_deliveries_time", "webhook_id", "last_attempt_at"),
)

# One row: the Fernet key used when HEADWATER_WEBHOOK_SECRET_KEY is not set (shared by every process).
webhook_keys = sa.Table(
    "webhook_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("fernet_key", sa.String(64), nullable=False),
)
