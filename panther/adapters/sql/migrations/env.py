"""Alembic environment: runs on the connection the caller hands over (see db.migrate)."""

from alembic import context

from panther.adapters import ledger_embedded  # noqa: F401  (registers ledger_entry)
from panther.adapters.sql import tables  # noqa: F401  (registers the tables)
from panther.adapters.sql.metadata import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through panther.adapters.sql.db.migrate(engine)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
