"""Alembic environment: always run on a connection handed in by phonebook.store.migrate."""

from __future__ import annotations

from alembic import context

from phonebook.store.migrate import include_object
from phonebook.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_object=include_object,
)
context.run_migrations()
