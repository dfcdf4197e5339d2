"""Statements compiled once per dialect by SQLAlchemy, for the hot paths to run on DBAPI cursors.

SQLAlchemy writes the SQL and says how to convert values each way; fast_reads
and direct run it on a connection of their own choosing, without the
per-execution machinery (docs/performance.md). Only module-level statements
may be passed: the cache is keyed by their identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Delete, Insert, Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

Statement = Select[Any] | Insert | Update | Delete
Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    positions: tuple[str, ...] | None  # qmark dialects take a tuple in this order
    binds: tuple[tuple[str, Processor], ...]  # e.g. SQLite: datetime -> its text form
    results: tuple[tuple[int, Processor], ...]  # e.g. SQLite: text -> datetime, 0/1 -> bool
    # positions, each with its processor (None: the value as it is)
    ordered: tuple[tuple[str, Processor | None], ...] = ()

    def parameters(self, values: Mapping[str, Any]) -> Any:
        if self.positions is not None:
            # One pass, no copy of values: a third of what it cost per statement.
            return tuple([values[n] if p is None else p(values[n]) for n, p in self.ordered])
        if not self.binds:
            return values
        processed = dict(values)
        for name, process in self.binds:
            if name in processed:
                processed[name] = process(processed[name])
        return processed

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
        (name, _bind_processor(bind.type.dialect_impl(dialect), dialect))
        for name, bind in compiled.binds.items()
    )
    selected = statement.selected_columns if isinstance(statement, Select) else ()
    if isinstance(statement, Insert | Update | Delete) and statement._returning:
        selected = statement._returning  # type: ignore[assignment]
    results = (
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
    )
    processors = {name: p for name, p in binds if p is not None}
    positions = tuple(compiled.positiontup or ()) if compiled.positional else None
    return Compiled(
        sql=compiled.string,
        positions=positions,
        binds=tuple(processors.items()),
        results=tuple((i, p) for i, p in enumerate(results) if p is not None),
        ordered=tuple((name, processors.get(name)) for name in positions or ()),
    )


_SAMPLES = (datetime(2026, 11, 27, 9, 5, 3, 1234), datetime(999, 1, 2), datetime(9999, 12, 31))


def _bind_processor(impl: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    """impl's bind processor; SQLite's DATETIME text by isoformat, where it writes the same.

    SQLAlchemy's formats each datetime with a %-template over a dict of its
    fields: 2.5% of an event loop's samples during a create run, three of them
    per create. isoformat gives the same text (checked here on samples, and in
    tests on any datetime) at a fraction of the cost.
    """
    slow = impl.bind_processor(dialect)
    if slow is None or not (dialect.name == "sqlite" and isinstance(impl, DateTime)):
        return slow

    def by_isoformat(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return slow(value)

    same = all(by_isoformat(sample) == slow(sample) for sample in _SAMPLES)
    return by_isoformat if same else slow
