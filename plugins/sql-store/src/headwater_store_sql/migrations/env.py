"""Alembic environment of the SQL tracking store.

Migrations always run on a connection handed over by
:func:`headwater_store_sql.migrate.upgrade_database`, which already holds the
migration lock and an open transaction; there is no offline mode.
"""

from alembic import context

from headwater_store_sql.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through headwater_store_sql.upgrade_database(uri)")

context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
