"""Which pooled connection a write transaction gets on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from phonebook.store.database import Database
from tests.store.test_digit_index import another_tool

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


def test_a_write_that_cannot_begin_raises_sqlalchemys_error(database_url: str) -> None:
    """Another process holding the write lock past busy_timeout: an OperationalError (503)."""
    database = Database(database_url, sqlite_busy_timeout_ms=20)
    try:
        with another_tool(database) as other:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError, match="database is locked"), database.writing():
                raise AssertionError("began while another writer held the lock")
            other.execute("ROLLBACK")
        with database.writing() as conn:  # the connection went back to the pool usable
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        database.dispose()
