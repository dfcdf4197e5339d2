"""Bulk loading for seeding: many rows per statement, one transaction per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from phonebook.store import digit_index
from phonebook.store.tables import constituents, phone_numbers


def next_id(conn: Connection, table: str) -> int:
    """The first id a bulk load may give rows of table: past every id ever used.

    Past the highest id *ever* given, not the highest now present: a deleted
    row's id stays its own, so history and restore never meet a stranger on it.
    """
    column = {"constituents": constituents.c.id, "phone_numbers": phone_numbers.c.id}[table]
    present = int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar_one())
    if conn.dialect.name == "postgresql":
        used = conn.exec_driver_sql(
            f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END "  # noqa: S608 - fixed names
            f"FROM {_sequence(conn, table)}"
        ).scalar_one()
    else:
        used = conn.exec_driver_sql(
            "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?", (table,)
        ).scalar_one()
    return max(present, int(used)) + 1


def _sequence(conn: Connection, table: str) -> str:
    name: str = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar_one()
    return name


def insert_constituents(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(insert(constituents), list(rows))


def insert_phone_numbers(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(insert(phone_numbers), list(rows))


def after_bulk_load(conn: Connection) -> None:
    """Make sequences and planner statistics catch up with rows given explicit ids."""
    if conn.dialect.name == "postgresql":
        for table in ("constituents", "phone_numbers"):
            sequence = _sequence(conn, table)
            conn.exec_driver_sql(  # never back: ids of deleted rows stay used
                f"SELECT setval('{sequence}', GREATEST("  # noqa: S608 - fixed names
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}), (SELECT last_value FROM {sequence})))"
            )
    optimize(conn)


def optimize(conn: Connection) -> None:
    """Merge the reverse-lookup index and refresh the planner's statistics.

    On SQLite, trigger-fed writes leave the trigram index in many small
    segments, and a lookup reads each: at 60,000 numbers after 50,000 small
    writes a MATCH took 475 us, 103 us once merged (at 3M, 6 ms against 3).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE constituents")
        conn.exec_driver_sql("ANALYZE phone_numbers")
    else:
        digit_index.apply_notes(conn, at_least=1)  # before merging: every note, applied
        conn.exec_driver_sql(
            "INSERT INTO phone_numbers_digits(phone_numbers_digits) VALUES ('optimize')"
        )
        conn.exec_driver_sql("ANALYZE")
        _drop_stat4_samples(conn)


def _drop_stat4_samples(conn: Connection) -> None:
    """Keep ANALYZE's row counts (sqlite_stat1), drop its value samples (sqlite_stat4).

    A SQLite built with STAT4, as the pysqlite3 wheel's is, plans with sampled
    values, so it prepares a statement again whenever a bound value changes:
    FTS5's own statements on its shadow tables 85 times per lookup (callgrind:
    40% of a lookup's instructions in sqlite3Reprepare), and every list by
    constituent. Search ran at 2,100 req/s against 3,900 with the system's
    SQLite 3.40 (make bench, 1 worker, 10k). The plans need only row counts.
    """
    found = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat4'")
    if found.first() is None:
        return
    conn.exec_driver_sql("DELETE FROM sqlite_stat4")
    conn.exec_driver_sql("ANALYZE sqlite_schema")  # this connection reloads the statistics
