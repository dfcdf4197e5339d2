"""Keeping lookups quick as data changes: index merges and planner statistics."""

from __future__ import annotations

from phonebook.store import bulk
from phonebook.store.database import Database


def optimize(database: Database) -> None:
    """Merge the reverse-lookup index and refresh statistics, in one write transaction."""
    with database.writing() as conn:
        bulk.optimize(conn)
