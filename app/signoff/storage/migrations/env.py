"""Alembic environment: runs Signoff's migrations on the connection that ``storage.migrate`` hands in.

Migrations are applied automatically when a database is opened, never from an ``alembic.ini``; the
connection (already inside the migration's transaction) arrives in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from signoff.storage.schema import complete_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=complete_metadata(),
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
