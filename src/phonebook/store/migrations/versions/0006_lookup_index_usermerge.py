"""SQLite: the lookup index lets a 'merge' join as few as two segments of a level.

FTS5 keeps up to four segments per level while numbers are written (its
automerge), and a lookup probes every segment for every token: after a burst
of writes at 3,000,000 numbers a 7-digit lookup took 243 us over 20 segments,
169 us once merged to 3. The served app merges in the background after writes
(Database.merge_lookup_index); FTS5's 'merge' command only merges levels
holding usermerge segments (default 4), so this sets it to 2, its least.
PostgreSQL: nothing (its GIN index has no segments).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SET = "INSERT INTO phone_numbers_digits(phone_numbers_digits, rank) VALUES ('usermerge', {})"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SET.format(2))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SET.format(4))  # FTS5's default
