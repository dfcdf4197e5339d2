"""Lookup indexes that serve terms of six digits and more (store/digit_index.py).

SQLite: phone_numbers_digits becomes a contentless FTS5 table of three
columns (digits, even_pairs, odd_pairs), filled here and kept in step by
triggers that compute the pairs in SQL, so any writer of phone_numbers (the
app, the CLI, a sqlite3 shell of 3.34 or later) keeps it right. Pairs reach
the 64th digit, the most a number can have (longer ones stored by hand are
found by terms of 3-5 digits only). A 7-digit lookup at 3,000,000
numbers went from 2.7 ms to 62 us; building it there takes about 40 s.

PostgreSQL: each number's 6-digit windows as an integer array, in a GIN index
on an immutable SQL function; pg_trgm's index stays for shorter terms. A 7-digit
lookup at 3M went from 7.8 ms to 0.33 ms; the index takes ~50 s to build there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

# ruff: noqa: S608 - the SQL is built from constants here, never from input

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen with this revision: store/digit_index.py encodes queries the same way,
# and tests/store/test_digit_index.py holds the two together.
_PAIR_BASE = 0x4E00
_MAX_DIGITS = 64  # normalized_number is at most 64 characters (rules/numbers.py)


def _pairs(column: str, first: int) -> str:
    """SQL for the pairs of column's digits from position first (1-based), one character each.

    One char() call of 31 or 32 code points, cut to the pairs the number has (past
    its end substr() gives '' and the code point is the base). Flat, not nested:
    SQLite 3.40's parser overflows at a dozen nested CASEs, and a file whose
    triggers it cannot parse cannot be opened by it at all.
    """
    code_points = ", ".join(
        f"{_PAIR_BASE} + substr({column}, {position}, 2)"
        for position in range(first, _MAX_DIGITS, 2)
    )
    return f"substr(char({code_points}), 1, (length({column}) - {first - 1}) / 2)"


def _indexed(row: str) -> str:
    column = f"{row}.normalized_number"
    return f"{row}.id, {column}, {_pairs(column, 1)}, {_pairs(column, 2)}"


_COLUMNS = "rowid, digits, even_pairs, odd_pairs"
_INSERT = f"INSERT INTO phone_numbers_digits({_COLUMNS})"
# A contentless table forgets a row by being told what it indexed (FTS5's
# 'delete' command), computed again from the old number: the same expression,
# the same tokens. (contentless_delete=1 would need SQLite 3.43.)
_FORGET = f"INSERT INTO phone_numbers_digits(phone_numbers_digits, {_COLUMNS})"

SQLITE_UP = [
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    "DROP TABLE phone_numbers_digits",
    # Contentless: the pairs exist nowhere else to be read back. case_sensitive:
    # nothing here has a case, so no folding.
    "CREATE VIRTUAL TABLE phone_numbers_digits USING fts5("
    "digits, even_pairs, odd_pairs, content='', tokenize='trigram case_sensitive 1')",
    f"{_INSERT} SELECT {_indexed('phone_numbers')} FROM phone_numbers",
    "INSERT INTO phone_numbers_digits(phone_numbers_digits) VALUES ('optimize')",
    "CREATE TRIGGER phone_numbers_digits_insert AFTER INSERT ON phone_numbers BEGIN "
    f"{_INSERT} VALUES ({_indexed('new')}); END",
    "CREATE TRIGGER phone_numbers_digits_delete AFTER DELETE ON phone_numbers BEGIN "
    f"{_FORGET} VALUES ('delete', {_indexed('old')}); END",
    "CREATE TRIGGER phone_numbers_digits_update AFTER UPDATE OF normalized_number "
    "ON phone_numbers BEGIN "
    f"{_FORGET} VALUES ('delete', {_indexed('old')}); "
    f"{_INSERT} VALUES ({_indexed('new')}); END",
]

# Revision 0002's index, rebuilt from the table.
SQLITE_DOWN = [
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    "DROP TABLE phone_numbers_digits",
    "CREATE VIRTUAL TABLE phone_numbers_digits USING fts5("
    "normalized_number, content='phone_numbers', content_rowid='id', tokenize='trigram')",
    "INSERT INTO phone_numbers_digits(phone_numbers_digits) VALUES ('rebuild')",
    "CREATE TRIGGER phone_numbers_digits_insert AFTER INSERT ON phone_numbers BEGIN "
    "INSERT INTO phone_numbers_digits(rowid, normalized_number) "
    "VALUES (new.id, new.normalized_number); END",
    "CREATE TRIGGER phone_numbers_digits_delete AFTER DELETE ON phone_numbers BEGIN "
    "INSERT INTO phone_numbers_digits(phone_numbers_digits, rowid, normalized_number) "
    "VALUES ('delete', old.id, old.normalized_number); END",
    "CREATE TRIGGER phone_numbers_digits_update AFTER UPDATE OF normalized_number "
    "ON phone_numbers BEGIN "
    "INSERT INTO phone_numbers_digits(phone_numbers_digits, rowid, normalized_number) "
    "VALUES ('delete', old.id, old.normalized_number); "
    "INSERT INTO phone_numbers_digits(rowid, normalized_number) "
    "VALUES (new.id, new.normalized_number); END",
]


# STRICT: a NULL number has no windows (and no row in the index).
POSTGRESQL_UP = [
    "CREATE FUNCTION phone_digit_windows(digits text) RETURNS integer[] "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ "
    "SELECT coalesce(array_agg(DISTINCT substr(digits, i, 6)::integer), '{}') "
    "FROM generate_series(1, length(digits) - 5) AS i $$",
    # fastupdate off: new rows go straight into the index. With GIN's pending
    # list, which every lookup scans until it is merged, lookups after a load
    # took 2-4 ms instead of ~1.
    "CREATE INDEX ix_phone_numbers_digit_windows ON phone_numbers "
    "USING gin (phone_digit_windows(normalized_number)) WITH (fastupdate = off)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX ix_phone_numbers_digit_windows",
    "DROP FUNCTION phone_digit_windows(text)",
]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN})
