"""The schema as SQLAlchemy Core tables; migrations create exactly this."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# sqlite_autoincrement: ids are never reused, even after the highest is deleted
# (CONTRACT §2); PostgreSQL sequences already behave so.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    sqlite_autoincrement=True,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    # sha256 of the key: keys are 256-bit random strings, so a fast hash suffices.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False),
    Column("read_only", Boolean(), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("revoked_at", DateTime(), nullable=True),
    sqlite_autoincrement=True,
)

phone_number_types = Table(
    "phone_number_types",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("code", String(50), nullable=False, unique=True),
    Column("ordinal", Integer(), nullable=False),
    sqlite_autoincrement=True,
)

constituents = Table(
    "constituents",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("external_constituent_id", String(255), nullable=True),
    Column("is_org", Boolean(), nullable=False),
    Column("prefix", String(255), nullable=True),
    Column("first_name", String(255), nullable=True),
    Column("middle_name", String(255), nullable=True),
    Column("last_name", String(255), nullable=True),
    Column("suffix", String(255), nullable=True),
    Column("org_name", String(255), nullable=True),
    Column("job_title", String(255), nullable=True),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    # Lets phone_numbers reference (constituent, account) together, so a number
    # can never sit in another account than its constituent.
    UniqueConstraint("id", "account_id"),
    Index(None, "account_id", "id"),
    Index(None, "account_id", "external_constituent_id"),
    sqlite_autoincrement=True,
)

phone_numbers = Table(
    "phone_numbers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, nullable=False),
    Column("constituent_id", Id, nullable=False),
    Column("number", String(64), nullable=False),
    Column("phone_number_type_id", Id, ForeignKey("phone_number_types.id"), nullable=False),
    Column("is_preferred", Boolean(), nullable=False),
    Column("not_current", Boolean(), nullable=False),
    Column("normalized_number", String(64), nullable=True),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    ForeignKeyConstraint(
        ["constituent_id", "account_id"],
        ["constituents.id", "constituents.account_id"],
        ondelete="CASCADE",
    ),
    Index(None, "constituent_id", "id"),
    # CONTRACT §4: at most one preferred number per constituent, held by the database.
    Index(
        "uq_phone_numbers_one_preferred",
        "constituent_id",
        unique=True,
        # A bare boolean column is a predicate both SQLite and PostgreSQL accept.
        sqlite_where=text("is_preferred"),
        postgresql_where=text("is_preferred"),
    ),
    sqlite_autoincrement=True,
)

# Idempotency-Key on POST (CONTRACT §8): the first response to (account, key),
# written in the same transaction as the write it answered.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer(), nullable=False),
    Column("response_body", Text(), nullable=False),
    Column("created_at", DateTime(), nullable=False, index=True),
    UniqueConstraint("account_id", "key"),
    sqlite_autoincrement=True,
)

# The audit trail (issue 5): each create, update, delete and restore of a number
# or constituent, written in the transaction of the change it records. States
# are the row's columns as JSON, so history outlives the row it describes.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    # The api_keys.id that acted; NULL for the command line. No foreign key, so
    # the record stands whatever later happens to keys.
    Column("key_id", Id, nullable=True),
    Column("entity", String(20), nullable=False),
    Column("entity_id", Id, nullable=False),
    Column("action", String(20), nullable=False),
    Column("state_before", Text(), nullable=True),
    Column("state_after", Text(), nullable=True),
    Column("occurred_at", DateTime(), nullable=False),
    Index(None, "account_id", "entity", "entity_id", "id"),
    sqlite_autoincrement=True,
)
