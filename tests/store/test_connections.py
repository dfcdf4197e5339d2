"""Which pooled connection a write transaction gets on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection

from phonebook.store.database import Database

pytestmark = pytest.mark.sqlite_only


def _dbapi(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def test_a_write_begins_on_the_connection_used_last(database: Database) -> None:
    """Its page cache is the warmest: SQLite drops a connection's cache once another has written."""
    with database.reading() as first, database.reading() as second:
        earlier, last = _dbapi(second), _dbapi(first)  # second goes back first, first last
    assert earlier is not last
    with database.writing() as conn:
        assert _dbapi(conn) is last
    with database.writing() as conn:
        assert _dbapi(conn) is last
