"""The SQLite lookup index also holds each number's digits as pairs (store/digit_index.py).

SQLite only: phone_numbers_digits becomes a contentless FTS5 table of three
columns (digits, even_pairs, odd_pairs), filled here and kept in step by
triggers that compute the pairs in SQL, so any writer of phone_numbers (the
app, the CLI, a sqlite3 shell) keeps it right. A 7-digit lookup at 3,000,000
numbers went from 3.6 ms to ~0.1 ms; building it there takes about 40 s.
PostgreSQL's pg_trgm index is unchanged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen with this revision: store/digit_index.py encodes queries the same way,
# and tests/store/test_digit_index.py holds the two together.
_PAIR_BASE = 0x4E00
_MAX_DIGITS = 64  # normalized_number is at most 64 characters


def _pairs(column: str, first: int) -> str:
    """SQL for the pairs of column's digits from position first (1-based), one character each.

    Nested, so that evaluation stops at the number's end: a flat chain of 32
    tests cost 5.5 us a row against about 2.
    """
    expression = "''"
    for position in reversed(range(first, _MAX_DIGITS, 2)):
        expression = (
            f"CASE WHEN length({column}) > {position} "
            f"THEN char({_PAIR_BASE} + substr({column}, {position}, 2)) || {expression} "
            "ELSE '' END"
        )
    return expression


def _indexed(row: str) -> str:
    column = f"{row}.normalized_number"
    return f"{row}.id, {column}, {_pairs(column, 1)}, {_pairs(column, 2)}"


_INSERT = "INSERT INTO phone_numbers_digits(rowid, digits, even_pairs, odd_pairs)"

SQLITE_UP = [
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    "DROP TABLE phone_numbers_digits",
    # Contentless: the pairs exist nowhere else to be read back; contentless_delete
    # lets a row be deleted by rowid alone. case_sensitive: nothing here has a case.
    "CREATE VIRTUAL TABLE phone_numbers_digits USING fts5("
    "digits, even_pairs, odd_pairs, content='', contentless_delete=1, "
    "tokenize='trigram case_sensitive 1')",
    f"{_INSERT} SELECT {_indexed('phone_numbers')} FROM phone_numbers",  # noqa: S608 - no input
    "INSERT INTO phone_numbers_digits(phone_numbers_digits) VALUES ('optimize')",
    "CREATE TRIGGER phone_numbers_digits_insert AFTER INSERT ON phone_numbers BEGIN "  # noqa: S608
    f"{_INSERT} VALUES ({_indexed('new')}); END",
    "CREATE TRIGGER phone_numbers_digits_delete AFTER DELETE ON phone_numbers BEGIN "
    "DELETE FROM phone_numbers_digits WHERE rowid = old.id; END",
    "CREATE TRIGGER phone_numbers_digits_update AFTER UPDATE OF normalized_number "  # noqa: S608
    "ON phone_numbers BEGIN "
    "DELETE FROM phone_numbers_digits WHERE rowid = old.id; "
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
