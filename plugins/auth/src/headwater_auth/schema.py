"""The auth tables. They live beside the tracking store's tables (same database by
default) under their own ``headwater_auth_`` names and their own Alembic version
table, so the two migration chains never meet.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

VERSION_TABLE = "headwater_auth_alembic_version"

metadata = sa.MetaData()


def _name(length: int) -> sa.types.TypeEngine:
    """A case-sensitive string (MySQL compares case-insensitively unless told otherwise)."""
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")



users = sa.Table(
    "headwater_auth_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", _name(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

tokens = sa.Table(
    "headwater_auth_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("headwater_auth_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

experiment_permissions = sa.Table(
    "headwater_auth_experiment_permissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_id", _name(64), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("headwater_auth_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
    sa.UniqueConstraint("experiment_id", "user_id", name="uq_headwater_auth_experiment_user"),
)

registered_model_permissions = sa.Table(
    "headwater_auth_registered_model_permissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", _name(256), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("headwater_auth_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
    sa.UniqueConstraint("name", "user_id", name="uq_headwater_auth_model_user"),
)

# One row. ``generation`` grows with every change, so each server process can tell
# in one cheap query whether its cached users and permissions are still current;
# ``secret`` signs the admin page's CSRF tokens, the same in every process.
state = sa.Table(
    "headwater_auth_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
)
