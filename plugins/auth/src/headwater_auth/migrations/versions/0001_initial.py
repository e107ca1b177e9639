"""Users, access tokens, experiment and registered-model permissions, shared state.

Revision ID: a0001
Revises:
Create Date: 2026-11-26
"""

import secrets

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def _name(length: int):
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "headwater_auth_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", _name(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("username", name="uq_headwater_auth_username"),
    )
    op.create_table(
        "headwater_auth_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("headwater_auth_users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("digest", name="uq_headwater_auth_token_digest"),
    )
    op.create_index("ix_headwater_auth_tokens_user", "headwater_auth_tokens", ["user_id"])
    op.create_table(
        "headwater_auth_experiment_permissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment_id", _name(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("headwater_auth_users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        sa.UniqueConstraint("experiment_id", "user_id", name="uq_headwater_auth_experiment_user"),
    )
    op.create_table(
        "headwater_auth_registered_model_permissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", _name(256), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("headwater_auth_users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        sa.UniqueConstraint("name", "user_id", name="uq_headwater_auth_model_user"),
    )
    state = op.create_table(
        "headwater_auth_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "generation": 1, "secret": secrets.token_hex(32)}])


def downgrade() -> None:
    for table in ("headwater_auth_state", "headwater_auth_registered_model_permissions",
                  "headwater_auth_experiment_permissions", "headwater_auth_tokens", "headwater_auth_users"):
        op.drop_table(table)
