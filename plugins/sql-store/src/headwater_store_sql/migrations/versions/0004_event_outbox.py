"""Event outbox: events written with the change they announce, delivery lanes, retries.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _binary_collation(bind) -> str:
    available = {row[0] for row in bind.exec_driver_sql("SHOW COLLATION LIKE 'utf8mb4%%bin'")}
    for name in ("utf8mb4_0900_bin", "utf8mb4_nopad_bin", "utf8mb4_bin"):
        if name in available:
            return name
    return "utf8mb4_bin"


def upgrade() -> None:
    bind = op.get_bind()
    options: dict = {}
    if bind.dialect.name in ("mysql", "mariadb"):
        options = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": _binary_collation(bind)}
    op.create_table(
        "event_outbox",
        sa.Column("seq", SEQUENCE, primary_key=True, autoincrement=True),
        sa.Column("position", sa.BigInteger, nullable=True),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("partition_key", sa.String(300), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("body", LONG_TEXT, nullable=False),
        **options,
    )
    op.create_index("ix_event_outbox_position", "event_outbox", ["position"], unique=True)
    op.create_table(
        "event_lanes",
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        **options,
    )
    op.create_table(
        "event_retries",
        sa.Column("lane", sa.String(300), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("partition_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
        **options,
    )
    op.create_index("ix_event_retries_status", "event_retries", ["status"])


def downgrade() -> None:
    op.drop_table("event_retries")
    op.drop_table("event_lanes")
    op.drop_index("ix_event_outbox_position", table_name="event_outbox")
    op.drop_table("event_outbox")
