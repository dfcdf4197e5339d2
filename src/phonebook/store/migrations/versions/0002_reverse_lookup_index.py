"""An index that serves "number contains these digits" (CONTRACT §7).

SQLite: an FTS5 trigram table over phone_numbers.normalized_number, kept in
step by triggers. PostgreSQL: a pg_trgm GIN index, which LIKE '%digits%' uses.
Both serve terms of three or more digits; shorter terms match so many numbers
that a scan is as fast.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
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
SQLITE_DOWN = [
    "DROP TRIGGER phone_numbers_digits_update",
    "DROP TRIGGER phone_numbers_digits_delete",
    "DROP TRIGGER phone_numbers_digits_insert",
    "DROP TABLE phone_numbers_digits",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_phone_numbers_normalized_number_trgm ON phone_numbers "
    "USING gin (normalized_number gin_trgm_ops)",
]
POSTGRESQL_DOWN = ["DROP INDEX ix_phone_numbers_normalized_number_trgm"]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN})
