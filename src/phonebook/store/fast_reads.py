"""The hot read path: SQLAlchemy-built statements, executed on a held DBAPI connection.

SQLAlchemy still writes the SQL (per dialect, once: store.compiled); what this skips is its
per-execution machinery (pool checkout, events, result wrapping), which
measured about 120 us of a 300 us GET here against 30 us for the query itself
(docs/performance.md). Each thread holds one autocommit connection, so every
statement sees the latest commit; the server's event loop is one thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select

from phonebook.store.compiled import Compiled, compiled_for


class FastReads:
    """Thread-held DBAPI connections and statements compiled once per dialect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._held: list[Any] = []
        self._lock = threading.Lock()
        self._dbapi_error = engine.dialect.loaded_dbapi.Error

    def prepare(self, statement: Select[Any]) -> Compiled:
        """The compiled form of a module-level statement, for this engine's dialect."""
        return compiled_for(self.engine.dialect, statement)

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.engine.raw_connection()
            if self.engine.dialect.name == "postgresql":
                conn.driver_connection.autocommit = True  # type: ignore[union-attr]
            with self._lock:
                self._held.append(conn)
            self._local.conn = conn
        return conn

    def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        prepared = self.prepare(statement)
        cursor = self._connection().cursor()
        try:
            try:
                cursor.execute(prepared.sql, prepared.parameters(values))
                rows = cursor.fetchall()
            finally:
                # Before _drop: a cursor of a closed sqlite3 connection cannot close,
                # and its ProgrammingError would hide the real error (a 500, not a 503).
                cursor.close()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            self._drop()
            # The same exception classes SQLAlchemy raises, so callers handle one kind.
            raise DBAPIError.instance(prepared.sql, values, exc, self._dbapi_error) from exc
        except BaseException:
            self._drop()
            raise
        return prepared.converted(rows)

    def _drop(self) -> None:
        """Forget this thread's connection after an error; the next call opens a new one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._held:
                    self._held.remove(conn)
            conn.invalidate()

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            conn.close()


# A list of ids as one parameter, so that a statement is compiled once for any
# number of ids (SQLAlchemy's expanding IN renders per call). SQLite reads it as
# a JSON array: an IN list of 100 fixed slots measured 36 us on SQLite 3.40 but
# 141 us on 3.53, json_each 7 and 14 us (docs/performance.md).
DIALECTS = ("sqlite", "postgresql")


def in_ids(column: ColumnElement[int], dialect: str) -> ColumnElement[bool]:
    """column among the ids of the one parameter :ids (values from ids_parameter)."""
    if dialect == "sqlite":
        values = func.json_each(bindparam("ids"))
        return column.in_(select(literal_column("value")).select_from(values))
    return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))


def ids_parameter(dialect: str, ids: Sequence[int]) -> dict[str, object]:
    """The :ids parameter of in_ids for this dialect."""
    return {"ids": orjson.dumps(list(ids)).decode() if dialect == "sqlite" else list(ids)}


SelectT = TypeVar("SelectT", bound=Select[Any])


def paged(query: SelectT, limit: str | int, offset: str | int = 0) -> SelectT:
    """query with LIMIT and OFFSET, each the parameter of that name or that number, as `? + 0`.

    SQLite 3.53's planner reads a LIMIT or OFFSET that is a bare parameter, so
    the statement is prepared again at every execution, whatever the value: a
    page of a constituent's numbers measured 11.4 us against 3.9 us for the
    same query with `? + 0` (3.40 runs both in 3.5 us; docs/performance.md).
    Both are always given: for a LIMIT alone SQLAlchemy's SQLite dialect adds a
    bare `OFFSET ?`.
    """
    return query.limit(_unread(limit)).offset(_unread(offset))


def _unread(value: str | int) -> ColumnElement[int]:
    parameter = (
        bindparam(value, type_=BigInteger) if isinstance(value, str) else literal(value, BigInteger)
    )
    return parameter + literal_column("0", BigInteger)  # BIGINT: PostgreSQL's offsets are 64-bit
