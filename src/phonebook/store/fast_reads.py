"""The hot read path: SQLAlchemy-built statements, executed on a held DBAPI connection.

SQLAlchemy still writes the SQL (per dialect, once: store.compiled); what this skips is its
per-execution machinery (pool checkout, events, result wrapping), which
measured about 120 us of a 300 us GET here against 30 us for the query itself
(docs/performance.md). Each thread holds one autocommit connection, so every
statement sees the latest commit; the server's event loop is one thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, bindparam
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


# A list of ids cannot be one parameter of a statement compiled once (SQLAlchemy's
# expanding IN renders per call). A fixed number of slots can: unused ones hold 0,
# which is never an id.
ID_SLOTS = 100


def in_id_slots(column: ColumnElement[int]) -> ColumnElement[bool]:
    """column IN (:id_slot_0, ..., :id_slot_99), for a statement built once."""
    return column.in_([bindparam(f"id_slot_{i}") for i in range(ID_SLOTS)])


def id_slot_values(ids: Sequence[int]) -> Iterator[dict[str, int]]:
    """The slot parameters for ids, ID_SLOTS at a time."""
    for start in range(0, len(ids), ID_SLOTS):
        chunk = list(ids[start : start + ID_SLOTS])
        chunk += [0] * (ID_SLOTS - len(chunk))
        yield {f"id_slot_{i}": value for i, value in enumerate(chunk)}
