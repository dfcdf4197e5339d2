"""The hot write path: compiled statements run on the transaction's own DBAPI connection.

The writes' counterpart of fast_reads: the transaction stays SQLAlchemy's, and
what is skipped is its per-execution machinery, about 45 us of the 60 us a
one-row INSERT took through Connection.execute here (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Insert, Update
from sqlalchemy.exc import DBAPIError, StatementError

from phonebook.store.compiled import Compiled, Statement, compiled_for


def _execute(
    conn: Connection, statement: Statement, values: Mapping[str, Any]
) -> tuple[Compiled, Any]:
    # INSERT and UPDATE compile per set of columns given; the rest once.
    keys = tuple(values) if isinstance(statement, Insert | Update) else ()
    compiled = compiled_for(conn.dialect, statement, keys)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(compiled.sql, compiled.parameters(values))
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise driver_error(conn, compiled.sql, values, exc) from exc
    return compiled, cursor


def driver_error(
    conn: Connection, statement: str, parameters: Any, exc: Exception
) -> StatementError:
    """exc, raised by the driver, as SQLAlchemy raises it: retries and error answers
    (a busy database is 503, not 500) see one kind of exception."""
    return DBAPIError.instance(statement, parameters, exc, conn.dialect.loaded_dbapi.Error)


def rows(
    conn: Connection, statement: Statement, values: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows a SELECT, or a write with RETURNING, gives."""
    compiled, cursor = _execute(conn, statement, values)
    try:
        found = cursor.fetchall()
    finally:
        cursor.close()
    return compiled.converted(found)


def run(conn: Connection, statement: Statement, values: Mapping[str, Any]) -> int:
    """Run a write; how many rows it touched."""
    _compiled, cursor = _execute(conn, statement, values)
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()
