"""Alembic environment of the alerts' tables (own version table; see headwater_alerts.schema)."""

from alembic import context

from headwater_alerts.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through headwater_alerts.rules.AlertStore")

context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
