"""Tables of the SQL model registry, in the tracking store's metadata.

Migration 0002 creates exactly these tables (the schema test compares them).
Design choices:

- Registered models have an integer id; versions, tags and aliases refer to
  it, so renaming a model rewrites one row.
- ``registered_models.last_version`` hands out version numbers: creating a
  version increments it under the row's write lock, so concurrent writers get
  distinct consecutive numbers and a deleted version's number is never reused.
- A deleted version stays as a row in stage ``Deleted_Internal`` with its
  source, run and link redacted.
"""

from __future__ import annotations

import sqlalchemy as sa

from headwater_store_sql.schema import MediumText, metadata

MODEL_NAME_LENGTH = 256
TAG_KEY_LENGTH = 250
ALIAS_LENGTH = 255
RUN_ID_LENGTH = 256
STAGE_DELETED = "Deleted_Internal"

_KEYED = {"sqlite_with_rowid": False}


def _model_fk(table: str, primary_key: bool = True) -> sa.Column:
    return sa.Column(
        "registered_model_id",
        sa.Integer,
        sa.ForeignKey("registered_models.id", ondelete="CASCADE", name=f"fk_{table}_registered_model"),
        primary_key=primary_key,
        autoincrement=False,
    )


registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MODEL_NAME_LENGTH), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("user_id", sa.String(256), nullable=True),
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("name", name="uq_registered_models_name"),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    _model_fk("registered_model_tags"),
    sa.Column("key", sa.String(TAG_KEY_LENGTH), primary_key=True),
    sa.Column("value", MediumText, nullable=False),
    **_KEYED,
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    _model_fk("model_versions"),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("user_id", sa.String(256), nullable=True),
    sa.Column("current_stage", sa.String(20), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("storage_location", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(RUN_ID_LENGTH), nullable=True),
    sa.Column("run_link", sa.Text, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_message", sa.String(500), nullable=True),
    sa.Column("model_id", sa.String(64), nullable=True),
    # search_model_versions' default order is the newest update first.
    sa.Index("ix_model_versions_last_updated", "last_updated_time"),
    **_KEYED,
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("registered_model_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(TAG_KEY_LENGTH), primary_key=True),
    sa.Column("value", MediumText, nullable=False),
    sa.ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        ondelete="CASCADE",
        name="fk_model_version_tags_version",
    ),
    **_KEYED,
)

registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    _model_fk("registered_model_aliases"),
    sa.Column("alias", sa.String(ALIAS_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    **_KEYED,
)

# Children before parents: the order rows must be deleted in.
REGISTRY_TABLES_CHILDREN_FIRST = (
    registered_model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
