"""Alert rules and their firings.

Revision ID: al0001
Revises:
Create Date: 2025-02-02
"""

import sqlalchemy as sa
from alembic import op

revision = "al0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("rule_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("filter", sa.Text, nullable=True),
        sa.Column("condition", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "alert_firings",
        sa.Column("rule_id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("fired_at", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_firings")
    op.drop_table("alert_rules")
