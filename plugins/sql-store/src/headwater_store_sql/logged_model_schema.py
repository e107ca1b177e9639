"""Tables of logged models (MLflow 3), in the tracking store's metadata.

Migration 0003 creates exactly these tables (the schema test compares them).
A logged model belongs to an experiment and goes with it; its tags and
params go with the model; a run's model outputs and inputs go with the run
or the model, whichever is deleted first.
"""

from __future__ import annotations

import sqlalchemy as sa

from headwater_store_sql.schema import KEY_LENGTH, RUN_ID_LENGTH, URI_LENGTH, MediumText, metadata

MODEL_ID_LENGTH = 40  # "m-" + 32 hex digits, with room to spare
MODEL_NAME_LENGTH = 500

_KEYED = {"sqlite_with_rowid": False}


def _model_fk(table: str) -> sa.Column:
    return sa.Column(
        "model_id",
        sa.String(MODEL_ID_LENGTH),
        sa.ForeignKey("logged_models.model_id", ondelete="CASCADE", name=f"fk_{table}_model"),
        primary_key=True,
    )


def _run_fk(table: str) -> sa.Column:
    return sa.Column(
        "run_id",
        sa.String(RUN_ID_LENGTH),
        sa.ForeignKey("runs.run_id", ondelete="CASCADE", name=f"fk_{table}_run"),
        primary_key=True,
    )


logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_logged_models_experiment"),
        nullable=False,
    ),
    sa.Column("name", sa.String(MODEL_NAME_LENGTH), nullable=False),
    sa.Column("artifact_uri", sa.String(URI_LENGTH + 60), nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("status_message", sa.Text, nullable=True),
    sa.Column("model_type", sa.String(500), nullable=True),
    sa.Column("source_run_id", sa.String(RUN_ID_LENGTH), nullable=True),
    sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False),
    # runs:/<run>/<name> looks models up by experiment and name; searches list an experiment's newest first.
    sa.Index("ix_logged_models_experiment_name", "experiment_id", "name"),
    sa.Index("ix_logged_models_experiment_created", "experiment_id", "creation_timestamp"),
)

logged_model_tags = sa.Table(
    "logged_model_tags",
    metadata,
    _model_fk("logged_model_tags"),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", MediumText, nullable=False),
    **_KEYED,
)

logged_model_params = sa.Table(
    "logged_model_params",
    metadata,
    _model_fk("logged_model_params"),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", MediumText, nullable=False),
    **_KEYED,
)

run_model_outputs = sa.Table(
    "run_model_outputs",
    metadata,
    _run_fk("run_model_outputs"),
    _model_fk("run_model_outputs"),
    sa.Column("step", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Index("ix_run_model_outputs_model", "model_id"),
    **_KEYED,
)

run_model_inputs = sa.Table(
    "run_model_inputs",
    metadata,
    _run_fk("run_model_inputs"),
    _model_fk("run_model_inputs"),
    sa.Index("ix_run_model_inputs_model", "model_id"),
    **_KEYED,
)
