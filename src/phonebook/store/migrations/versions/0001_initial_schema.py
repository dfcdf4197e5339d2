"""Initial schema: accounts, API keys, phone number types, constituents, phone numbers.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# CONTRACT §3: LGL's default types (id, name, code, ordinal).
DEFAULT_TYPES = [
    (1, "Home", "home", 100),
    (2, "Work", "work", 100),
    (3, "Mobile", "mobile", 100),
    (4, "Other", "other", 100),
    (5, "Fax", "fax", 101),
    (6, "Skype", "skype", 100),
    (7, "Assistant", "assistant", 101),
    (8, "Pager", "pager", 102),
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sqlite_autoincrement=True,
    )
    types = op.create_table(
        "phone_number_types",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_number_types")),
        sa.UniqueConstraint("code", name=op.f("uq_phone_number_types_code")),
        sa.UniqueConstraint("name", name=op.f("uq_phone_number_types_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_api_keys_account_id"), "api_keys", ["account_id"])
    op.create_table(
        "constituents",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("external_constituent_id", sa.String(length=255), nullable=True),
        sa.Column("is_org", sa.Boolean(), nullable=False),
        sa.Column("prefix", sa.String(length=255), nullable=True),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("middle_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("suffix", sa.String(length=255), nullable=True),
        sa.Column("org_name", sa.String(length=255), nullable=True),
        sa.Column("job_title", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_constituents_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_constituents")),
        sa.UniqueConstraint("id", "account_id", name=op.f("uq_constituents_id_account_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_constituents_account_id_external_constituent_id"),
        "constituents",
        ["account_id", "external_constituent_id"],
    )
    op.create_index(op.f("ix_constituents_account_id_id"), "constituents", ["account_id", "id"])
    op.create_table(
        "phone_numbers",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("constituent_id", Id, nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("phone_number_type_id", Id, nullable=False),
        sa.Column("is_preferred", sa.Boolean(), nullable=False),
        sa.Column("not_current", sa.Boolean(), nullable=False),
        sa.Column("normalized_number", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["constituent_id", "account_id"],
            ["constituents.id", "constituents.account_id"],
            name=op.f("fk_phone_numbers_constituent_id_account_id_constituents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["phone_number_type_id"],
            ["phone_number_types.id"],
            name=op.f("fk_phone_numbers_phone_number_type_id_phone_number_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_phone_numbers_constituent_id_id"), "phone_numbers", ["constituent_id", "id"]
    )
    op.create_index(
        "uq_phone_numbers_one_preferred",
        "phone_numbers",
        ["constituent_id"],
        unique=True,
        sqlite_where=sa.text("is_preferred"),
        postgresql_where=sa.text("is_preferred"),
    )
    op.bulk_insert(
        types,
        [{"id": i, "name": n, "code": c, "ordinal": o} for i, n, c, o in DEFAULT_TYPES],
    )


def downgrade() -> None:
    op.drop_table("phone_numbers")
    op.drop_table("constituents")
    op.drop_table("api_keys")
    op.drop_table("phone_number_types")
    op.drop_table("accounts")
