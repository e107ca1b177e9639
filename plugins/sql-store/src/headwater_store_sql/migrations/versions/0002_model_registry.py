"""Model registry: registered models, versions, their tags, aliases.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MEDIUM_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _binary_collation(bind) -> str:
    """A case-sensitive collation (names and LIKE filters are case-sensitive, as MLflow's)."""
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
    keyed = {**options, "sqlite_with_rowid": False}

    def model_fk(table: str) -> sa.Column:
        return sa.Column(
            "registered_model_id",
            sa.Integer,
            sa.ForeignKey("registered_models.id", ondelete="CASCADE", name=f"fk_{table}_registered_model"),
            primary_key=True,
            autoincrement=False,
        )

    op.create_table(
        "registered_models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("last_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
        **options,
    )
    op.create_table(
        "registered_model_tags",
        model_fk("registered_model_tags"),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", MEDIUM_TEXT, nullable=False),
        **keyed,
    )
    op.create_table(
        "model_versions",
        model_fk("model_versions"),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("current_stage", sa.String(20), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("storage_location", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(256), nullable=True),
        sa.Column("run_link", sa.Text, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.String(500), nullable=True),
        sa.Column("model_id", sa.String(64), nullable=True),
        **keyed,
    )
    op.create_index("ix_model_versions_last_updated", "model_versions", ["last_updated_time"])
    op.create_table(
        "model_version_tags",
        sa.Column("registered_model_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", MEDIUM_TEXT, nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id", "version"],
            ["model_versions.registered_model_id", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_version_tags_version",
        ),
        **keyed,
    )
    op.create_table(
        "registered_model_aliases",
        model_fk("registered_model_aliases"),
        sa.Column("alias", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        **keyed,
    )


def downgrade() -> None:
    for table in (
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
