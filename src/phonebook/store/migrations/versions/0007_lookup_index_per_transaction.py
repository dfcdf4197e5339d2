"""SQLite: the lookup index takes a transaction's new numbers at its end, not one by one.

Under the bench's create load the index's triggers cost more than the rest of
a create together: a create's use case took 130 us in the writers' turn with
them and 77 us without (2 workers, 16 connections). FTS5 tokenizes each row
and writes a segment at the end of each savepoint, one per create.

The triggers now only note which numbers the index lacks, in
phone_numbers_digits_pending, and forget what it holds of a number deleted or
changed. The app's write transactions index the noted numbers in one
statement before they commit (store/digit_index.index_pending); a lookup also
checks the noted numbers, so one written by any other tool (a sqlite3 shell)
is found before the app's next write indexes it. A number is in the index or
noted, never both.

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
_UNINDEXED = "phone_numbers_digits_unindexed"
_NOT_PENDING = f"WHERE NOT EXISTS (SELECT 1 FROM {_PENDING} WHERE id = old.id)"

SQLITE_UP = [
    f"CREATE TABLE {_PENDING} (id INTEGER NOT NULL PRIMARY KEY)",
    f"CREATE VIEW {_UNINDEXED} AS SELECT {_v5._indexed('phone_numbers')} "
    f"FROM phone_numbers WHERE id IN (SELECT id FROM {_PENDING})",
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    "CREATE TRIGGER phone_numbers_digits_insert AFTER INSERT ON phone_numbers BEGIN "
    f"INSERT OR IGNORE INTO {_PENDING}(id) VALUES (new.id); END",
    "CREATE TRIGGER phone_numbers_digits_delete AFTER DELETE ON phone_numbers BEGIN "
    f"{_v5._FORGET} SELECT 'delete', {_v5._indexed('old')} {_NOT_PENDING}; "
    f"DELETE FROM {_PENDING} WHERE id = old.id; END",
    "CREATE TRIGGER phone_numbers_digits_update AFTER UPDATE OF normalized_number "
    "ON phone_numbers BEGIN "
    f"{_v5._FORGET} SELECT 'delete', {_v5._indexed('old')} {_NOT_PENDING}; "
    f"INSERT OR IGNORE INTO {_PENDING}(id) VALUES (new.id); END",
]

# 0005's triggers again, once the index holds every noted number.
SQLITE_DOWN = [
    f"{_v5._INSERT} SELECT * FROM {_UNINDEXED}",
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    f"DROP VIEW {_UNINDEXED}",
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
