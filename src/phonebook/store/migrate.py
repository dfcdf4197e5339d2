"""Schema migrations with Alembic, run in-process on one transaction."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from phonebook.store.database import Database

_SCRIPTS = Path(__file__).parent / "migrations"


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
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_revision(database: Database) -> str | None:
    with database.reading() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
