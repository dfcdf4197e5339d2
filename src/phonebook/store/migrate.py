"""Schema migrations with Alembic, run in-process on one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from phonebook.store.database import Database

_SCRIPTS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x70686F6E65  # "phone": any constant shared by every process


# Built by migrations 0002 and 0005 per dialect, outside the metadata (an FTS5
# table and its shadow tables on SQLite, GIN indexes on PostgreSQL).
_REVERSE_LOOKUP_OBJECTS = (
    "phone_numbers_digits",  # and its notes and views (migration 0007)
    "ix_phone_numbers_normalized_number_trgm",
    "ix_phone_numbers_digit_windows",
)


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: leave the reverse-lookup index objects out of comparisons."""
    return not (name or "").startswith(_REVERSE_LOOKUP_OBJECTS)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to revision; a no-op when it is there already.

    The whole upgrade is one write transaction, so two processes migrating at
    once on SQLite queue on the write lock instead of racing.
    """
    config = _config()
    with database.writing() as conn:
        if not database.is_sqlite:
            # Processes starting together take turns; the later ones find the
            # schema current and do nothing. SQLite's BEGIN IMMEDIATE does the same.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(database: Database, revision: str) -> None:
    """Take the schema back to revision, in one write transaction (tests; an operator's undo)."""
    config = _config()
    with database.writing() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def current_revision(database: Database) -> str | None:
    with database.reading() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
