"""Logged models (MLflow 3): models, their tags and params, and runs' model outputs and inputs.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MEDIUM_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _binary_collation(bind) -> str:
    """A case-sensitive collation (name filters are case-sensitive, as MLflow's)."""
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
            "model_id",
            sa.String(40),
            sa.ForeignKey("logged_models.model_id", ondelete="CASCADE", name=f"fk_{table}_model"),
            primary_key=True,
        )

    def run_fk(table: str) -> sa.Column:
        return sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("runs.run_id", ondelete="CASCADE", name=f"fk_{table}_run"),
            primary_key=True,
        )

    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(40), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_logged_models_experiment"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_uri", sa.String(2260), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("model_type", sa.String(500), nullable=True),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        **options,
    )
    op.create_index("ix_logged_models_experiment_name", "logged_models", ["experiment_id", "name"])
    op.create_index("ix_logged_models_experiment_created", "logged_models", ["experiment_id", "creation_timestamp"])
    for table in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            table,
            model_fk(table),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", MEDIUM_TEXT, nullable=False),
            **keyed,
        )
    op.create_table(
        "run_model_outputs",
        run_fk("run_model_outputs"),
        model_fk("run_model_outputs"),
        sa.Column("step", sa.BigInteger, primary_key=True, autoincrement=False),
        **keyed,
    )
    op.create_index("ix_run_model_outputs_model", "run_model_outputs", ["model_id"])
    op.create_table("run_model_inputs", run_fk("run_model_inputs"), model_fk("run_model_inputs"), **keyed)
    op.create_index("ix_run_model_inputs_model", "run_model_inputs", ["model_id"])


def downgrade() -> None:
    for table in ("run_model_inputs", "run_model_outputs", "logged_model_params", "logged_model_tags", "logged_models"):
        op.drop_table(table)
