"""The hot write path: SQLAlchemy-built statements run on the transaction's own DBAPI connection.

The writes' counterpart of fast_reads: SQLAlchemy writes the SQL and converts
the values (once per statement, dialect and set of columns), the transaction
stays SQLAlchemy's, and what is skipped is its per-execution machinery, about
45 us of the 60 us a one-row INSERT took through Connection.execute here
(docs/performance.md). Only module-level statements may be passed: the cache
is keyed by their identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Delete, Insert, Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from phonebook.store.fast_reads import converted

Statement = Select[Any] | Insert | Update | Delete
Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # qmark dialects take a tuple in this order
    binds: tuple[tuple[str, Processor], ...]  # e.g. SQLite: datetime -> its text form
    results: tuple[tuple[int, Processor], ...]  # e.g. SQLite: text -> datetime, 0/1 -> bool

    def parameters(self, values: Mapping[str, Any]) -> Any:
        if self.binds:
            values = dict(values)
            for name, process in self.binds:
                if name in values:
                    values[name] = process(values[name])
        if self.positions is None:
            return values
        return tuple(values[name] for name in self.positions)


_cache: dict[tuple[str, int, tuple[str, ...]], _Compiled] = {}


def _compile(dialect: Dialect, statement: Statement, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    binds = (
        (name, bind.type.dialect_impl(dialect).bind_processor(dialect))
        for name, bind in compiled.binds.items()
    )
    selected = statement.selected_columns if isinstance(statement, Select) else ()
    if isinstance(statement, Insert | Update | Delete) and statement._returning:
        selected = statement._returning  # type: ignore[assignment]
    results = (
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
    )
    return _Compiled(
        sql=compiled.string,
        positions=tuple(compiled.positiontup or ()) if compiled.positional else None,
        binds=tuple((name, p) for name, p in binds if p is not None),
        results=tuple((i, p) for i, p in enumerate(results) if p is not None),
    )


def _execute(
    conn: Connection, statement: Statement, values: Mapping[str, Any]
) -> tuple[_Compiled, Any]:
    # INSERT and UPDATE compile per set of columns given; the rest once.
    keys = tuple(values) if isinstance(statement, Insert | Update) else ()
    cache_key = (conn.dialect.name, id(statement), keys)
    compiled = _cache.get(cache_key)
    if compiled is None:
        compiled = _cache[cache_key] = _compile(conn.dialect, statement, keys)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(compiled.sql, compiled.parameters(values))
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        # The exception classes SQLAlchemy raises, so retries and error answers see one kind.
        raise DBAPIError.instance(
            compiled.sql, values, exc, conn.dialect.loaded_dbapi.Error
        ) from exc
    return compiled, cursor


def rows(
    conn: Connection, statement: Statement, values: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows a SELECT, or a write with RETURNING, gives."""
    compiled, cursor = _execute(conn, statement, values)
    try:
        found = cursor.fetchall()
    finally:
        cursor.close()
    return converted(found, compiled.results)


def run(conn: Connection, statement: Statement, values: Mapping[str, Any]) -> int:
    """Run a write; how many rows it touched."""
    _compiled, cursor = _execute(conn, statement, values)
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()
