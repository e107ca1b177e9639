"""Alembic environment of the auth tables (own version table: see headwater_auth.schema).

Migrations run on a connection handed over by
:func:`headwater_auth.migrate.upgrade_auth_database`, which holds the migration
lock and an open transaction; there is no offline mode.
"""

from alembic import context

from headwater_auth.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through headwater_auth.migrate.upgrade_auth_database(uri)")

context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
