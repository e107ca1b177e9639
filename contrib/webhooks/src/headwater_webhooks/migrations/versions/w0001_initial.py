"""Webhooks, their delivery history, the stored secret key.

Revision ID: w0001
Revises:
Create Date: 2025-02-01
"""

import sqlalchemy as sa
from alembic import op

revision = "w0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("experiment_ids", sa.Text, nullable=True),
        sa.Column("model_names", sa.Text, nullable=True),
        sa.Column("secret", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(32), primary_key=True),
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("response_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("first_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_attempt_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_webhook_deliveries_time", "webhook_deliveries", ["webhook_id", "last_attempt_at"])
    op.create_table(
        "webhook_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("fernet_key", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_keys")
    op.drop_index("ix_webhook_deliveries_time", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
