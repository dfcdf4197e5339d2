"""A liveness probe of the database."""

from __future__ import annotations

from sqlalchemy import text

from phonebook.store.database import Database


def ping(database: Database) -> None:
    """Raises when the database does not answer a trivial query."""
    with database.reading() as conn:
        conn.execute(text("SELECT 1"))
