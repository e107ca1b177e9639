"""Initial schema: experiments, runs, params, tags, metrics, latest metrics, datasets.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MEDIUM_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _binary_collation(bind) -> str:
    """A case-sensitive collation that also tells 'a' from 'a ' (NO PAD) where the server has one."""
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

    def run_fk(table: str) -> sa.Column:
        return sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("runs.run_id", ondelete="CASCADE", name=f"fk_{table}_run"),
            primary_key=True,
        )

    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2200), nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
        **options,
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_experiment_tags_experiment"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", MEDIUM_TEXT, nullable=False),
        **keyed,
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_runs_experiment"),
            nullable=False,
        ),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("artifact_uri", sa.String(2200), nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        **options,
    )
    op.create_index("ix_runs_experiment_stage_start", "runs", ["experiment_id", "lifecycle_stage", "start_time"])
    op.create_table(
        "params",
        run_fk("params"),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.String(6000), nullable=False),
        **keyed,
    )
    op.create_table(
        "tags",
        run_fk("tags"),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.String(8000), nullable=False),
        **keyed,
    )
    op.create_table(
        "metrics",
        run_fk("metrics"),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("timestamp", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("step", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Double, primary_key=True),
        sa.Column("is_nan", sa.Boolean(create_constraint=False), primary_key=True),
        **keyed,
    )
    op.create_table(
        "latest_metrics",
        run_fk("latest_metrics"),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        **keyed,
    )
    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_datasets_experiment"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", MEDIUM_TEXT, nullable=False),
        sa.Column("schema", LONG_TEXT, nullable=True),
        sa.Column("profile", LONG_TEXT, nullable=True),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
        **options,
    )
    op.create_table(
        "run_inputs",
        run_fk("run_inputs"),
        sa.Column(
            "dataset_id",
            sa.Integer,
            sa.ForeignKey("datasets.dataset_id", ondelete="CASCADE", name="fk_run_inputs_dataset"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        **keyed,
    )
    op.create_index("ix_run_inputs_dataset", "run_inputs", ["dataset_id"])
    op.create_table(
        "input_tags",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("dataset_id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "dataset_id"],
            ["run_inputs.run_id", "run_inputs.dataset_id"],
            ondelete="CASCADE",
            name="fk_input_tags_input",
        ),
        **keyed,
    )


def downgrade() -> None:
    for table in (
        "input_tags",
        "run_inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
