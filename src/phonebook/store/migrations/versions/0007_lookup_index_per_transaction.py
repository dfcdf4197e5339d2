"""SQLite: the lookup index changes at the end of each transaction, not row by row.

Under the bench's create load the index's triggers cost more than the rest of
a create together: a create's use case took 130 us in the writers' turn with
them and 77 us without (2 workers, 16 connections). FTS5 tokenized each row
and wrote a segment at the end of each savepoint, one per create.

The triggers now only take notes: phone_numbers_digits_pending, the numbers
the index lacks; phone_numbers_digits_forget, the digits it still holds for a
number deleted or changed since. The app's write transactions apply them in
two statements before they commit, once enough have gathered, and the served
app's upkeep applies the rest when writes pause (store/digit_index.apply_notes).
A lookup checks the pending numbers as well, so a number noted but not yet
indexed (or written by any other tool, such as a sqlite3 shell) is found;
what the index still holds of a changed or deleted number was never found
anyway, since every candidate is checked against its row.

A number is in the index or pending, never both; it has at most one note to
forget (its oldest digits, the ones the index holds).

PostgreSQL: nothing (its GIN index is maintained by the database itself).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

# ruff: noqa: S608 - the SQL is built from constants here, never from input

from __future__ import annotations

import importlib

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# 0005's frozen encoding of a row for the index: the same expressions, so the
# index's tokens for a number do not depend on which revision wrote them.
_v5 = importlib.import_module("phonebook.store.migrations.versions.0005_digit_pairs_lookup_index")

_PENDING = "phone_numbers_digits_pending"
_FORGET = "phone_numbers_digits_forget"
_UNINDEXED = "phone_numbers_digits_unindexed"
_FORGOTTEN = "phone_numbers_digits_forgotten"
_NOT_PENDING = f"WHERE NOT EXISTS (SELECT 1 FROM {_PENDING} WHERE id = old.id)"
# Only a number the index holds has digits to forget; the first note is what it holds.
_NOTE_OLD = (
    f"INSERT OR IGNORE INTO {_FORGET}(id, normalized_number) "
    f"SELECT old.id, old.normalized_number {_NOT_PENDING}"
)

SQLITE_UP = [
    f"CREATE TABLE {_PENDING} (id INTEGER NOT NULL PRIMARY KEY)",
    f"CREATE TABLE {_FORGET} (id INTEGER NOT NULL PRIMARY KEY, normalized_number VARCHAR(64))",
    # What the index takes, and what it is told to forget ('delete' rows).
    f"CREATE VIEW {_UNINDEXED} AS SELECT {_v5._indexed('phone_numbers')} "
    f"FROM phone_numbers WHERE id IN (SELECT id FROM {_PENDING})",
    f"CREATE VIEW {_FORGOTTEN} AS SELECT 'delete', {_v5._indexed(_FORGET)} FROM {_FORGET}",
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    "CREATE TRIGGER phone_numbers_digits_insert AFTER INSERT ON phone_numbers BEGIN "
    f"INSERT OR IGNORE INTO {_PENDING}(id) VALUES (new.id); END",
    "CREATE TRIGGER phone_numbers_digits_delete AFTER DELETE ON phone_numbers BEGIN "
    f"{_NOTE_OLD}; DELETE FROM {_PENDING} WHERE id = old.id; END",
    "CREATE TRIGGER phone_numbers_digits_update AFTER UPDATE OF normalized_number "
    "ON phone_numbers BEGIN "
    f"{_NOTE_OLD}; INSERT OR IGNORE INTO {_PENDING}(id) VALUES (new.id); END",
]

# The notes applied, then 0005's triggers again.
SQLITE_DOWN = [
    f"{_v5._FORGET} SELECT * FROM {_FORGOTTEN}",
    f"{_v5._INSERT} SELECT * FROM {_UNINDEXED}",
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    f"DROP VIEW {_FORGOTTEN}",
    f"DROP VIEW {_UNINDEXED}",
    f"DROP TABLE {_FORGET}",
    f"DROP TABLE {_PENDING}",
    *(statement for statement in _v5.SQLITE_UP if statement.startswith("CREATE TRIGGER")),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
