"""Statements compiled once per dialect by SQLAlchemy, for the hot paths to run on DBAPI cursors.

SQLAlchemy writes the SQL and says how to convert values each way; fast_reads
and direct run it on a connection of their own choosing, without the
per-execution machinery (docs/performance.md). Only module-level statements
may be passed: the cache is keyed by their identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import Dialect

Statement = Select[Any] | Insert | Update | Delete
Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Compiled:
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

    def converted(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Rows with each column's result processor applied: driver values as the types want."""
        if not self.results:
            return list(rows)
        result = []
        for row in rows:
            cells = list(row)
            for index, process in self.results:
                cells[index] = process(cells[index])
            result.append(tuple(cells))
        return result


_cache: dict[tuple[str, int, tuple[str, ...]], Compiled] = {}


def compiled_for(dialect: Dialect, statement: Statement, keys: tuple[str, ...] = ()) -> Compiled:
    """statement for dialect; an INSERT or UPDATE for the columns keys."""
    cache_key = (dialect.name, id(statement), keys)
    found = _cache.get(cache_key)
    if found is None:
        found = _cache[cache_key] = _compile(dialect, statement, keys)
    return found


def _compile(dialect: Dialect, statement: Statement, keys: tuple[str, ...]) -> Compiled:
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
    return Compiled(
        sql=compiled.string,
        positions=tuple(compiled.positiontup or ()) if compiled.positional else None,
        binds=tuple((name, p) for name, p in binds if p is not None),
        results=tuple((i, p) for i, p in enumerate(results) if p is not None),
    )
