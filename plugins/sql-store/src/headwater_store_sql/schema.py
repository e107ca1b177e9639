"""Tables of the SQL tracking store, as SQLAlchemy Core metadata.

The migrations in ``headwater_store_sql/migrations`` create exactly these
tables (a test compares the two). Design choices, all for speed:

- ``latest_metrics`` holds the latest point per (run, key), maintained on every
  write, so search, order_by and ``Run.data`` never read the history.
- Child tables use composite primary keys that match their lookups (SQLite
  stores them WITHOUT ROWID, clustered on the key).
- Long text lives in TEXT columns; on MySQL/MariaDB every string column uses a
  binary collation so ``=``, ``IN`` and ``LIKE`` are case-sensitive as MLflow's
  clients expect.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

VERSION_TABLE = "headwater_schema_version"

RUN_ID_LENGTH = 32
KEY_LENGTH = 250
PARAM_VALUE_LENGTH = 6000
TAG_VALUE_LENGTH = 8000
EXPERIMENT_NAME_LENGTH = 500
RUN_NAME_LENGTH = 250
URI_LENGTH = 2200  # artifact_location (2048) + "/<run id>/artifacts"

metadata = sa.MetaData()

# MySQL TEXT holds 64 KB, too little for 20000 utf8mb4 characters.
MediumText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

_KEYED = {"sqlite_with_rowid": False}

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(EXPERIMENT_NAME_LENGTH), nullable=False),
    sa.Column("artifact_location", sa.String(URI_LENGTH), nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("name", name="uq_experiments_name"),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_experiment_tags_experiment"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", MediumText, nullable=False),
    **_KEYED,
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(RUN_ID_LENGTH), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_runs_experiment"),
        nullable=False,
    ),
    sa.Column("name", sa.String(RUN_NAME_LENGTH), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("artifact_uri", sa.String(URI_LENGTH), nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False),
    sa.Column("deleted_time", sa.BigInteger, nullable=True),
    # search_runs: experiment + view type, ordered by start time by default.
    sa.Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
)


def _run_fk(table: str) -> sa.Column:
    return sa.Column(
        "run_id",
        sa.String(RUN_ID_LENGTH),
        sa.ForeignKey("runs.run_id", ondelete="CASCADE", name=f"fk_{table}_run"),
        primary_key=True,
    )


params = sa.Table(
    "params",
    metadata,
    _run_fk("params"),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.String(PARAM_VALUE_LENGTH), nullable=False),
    **_KEYED,
)

tags = sa.Table(
    "tags",
    metadata,
    _run_fk("tags"),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.String(TAG_VALUE_LENGTH), nullable=False),
    **_KEYED,
)

# Every point ever logged. The primary key makes identical points collapse and
# serves get_metric_history's ORDER BY (timestamp, step, value) directly.
metrics = sa.Table(
    "metrics",
    metadata,
    _run_fk("metrics"),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("step", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("value", sa.Double, primary_key=True),
    sa.Column("is_nan", sa.Boolean(create_constraint=False), primary_key=True),
    **_KEYED,
)

# The point with the greatest (step, timestamp, value) per run and key.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    _run_fk("latest_metrics"),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("is_nan", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    **_KEYED,
)

datasets = sa.Table(
    "datasets",
    metadata,
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
    sa.Column("source", MediumText, nullable=False),
    sa.Column("schema", LongText, nullable=True),
    sa.Column("profile", LongText, nullable=True),
    sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
)

# A run's dataset inputs; ``position`` keeps the order they were logged in.
run_inputs = sa.Table(
    "run_inputs",
    metadata,
    _run_fk("run_inputs"),
    sa.Column(
        "dataset_id",
        sa.Integer,
        sa.ForeignKey("datasets.dataset_id", ondelete="CASCADE", name="fk_run_inputs_dataset"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_run_inputs_dataset", "dataset_id"),
    **_KEYED,
)

input_tags = sa.Table(
    "input_tags",
    metadata,
    sa.Column("run_id", sa.String(RUN_ID_LENGTH), primary_key=True),
    sa.Column("dataset_id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.String(500), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "dataset_id"],
        ["run_inputs.run_id", "run_inputs.dataset_id"],
        ondelete="CASCADE",
        name="fk_input_tags_input",
    ),
    **_KEYED,
)

# Children before parents: the order rows must be deleted in.
TABLES_CHILDREN_FIRST = (
    input_tags,
    run_inputs,
    datasets,
    latest_metrics,
    metrics,
    tags,
    params,
    runs,
    experiment_tags,
    experiments,
)

# The model registry's tables join this metadata (migrations and schema checks see one schema).
from headwater_store_sql import registry_schema  # noqa: E402,F401
from headwater_store_sql import logged_model_schema  # noqa: E402,F401
from headwater_store_sql import outbox_schema  # noqa: E402,F401
