"""The schema itself holds the invariants: migrations, constraints, pragmas (STYLE habit 4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    MetaData,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from phonebook.store import migrate
from phonebook.store.database import Database
from phonebook.store.migrate import include_object
from phonebook.store.tables import accounts, constituents, metadata, phone_numbers
from tests.conftest import Api

NOW = datetime(2025, 6, 3, 17, 8, 54)
TABLES = {
    "accounts",
    "api_keys",
    "phone_number_types",
    "constituents",
    "phone_numbers",
    "idempotency_keys",
    "audit_events",
}


# --- helpers: rows written straight through SQLAlchemy Core -------------------


def _account(conn: Connection, name: str = "A") -> int:
    result = conn.execute(insert(accounts).values(name=name, created_at=NOW))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _constituent(conn: Connection, account_id: int) -> int:
    result = conn.execute(
        insert(constituents).values(
            account_id=account_id,
            is_org=False,
            last_name="Doe",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _number(
    conn: Connection,
    account_id: int,
    constituent_id: int,
    *,
    preferred: bool = False,
    number: str = "222-555-1212",
) -> int:
    result = conn.execute(
        insert(phone_numbers).values(
            account_id=account_id,
            constituent_id=constituent_id,
            number=number,
            phone_number_type_id=1,
            is_preferred=preferred,
            not_current=False,
            normalized_number="".join(ch for ch in number if ch.isdigit()) or None,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


@pytest.fixture
def conn(database: Database) -> Iterator[Connection]:
    """A connection; each test commits or rolls back its own transactions."""
    with database.engine.connect() as connection:
        yield connection


@pytest.fixture
def owner(conn: Connection) -> tuple[int, int]:
    """(account_id, constituent_id), committed."""
    with conn.begin():
        account_id = _account(conn)
        constituent_id = _constituent(conn, account_id)
    return account_id, constituent_id


# --- (a) migrations produce exactly the metadata -------------------------------


def _differences(conn: Connection, target: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        conn,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_object": include_object,
        },
    )
    return list(compare_metadata(context, target))


def test_migrations_produce_exactly_the_tables_metadata(conn: Connection) -> None:
    assert _differences(conn, metadata) == []


def test_the_comparison_sees_the_migrated_tables(conn: Connection) -> None:
    """Against empty metadata every table is a difference: the check is not vacuous."""
    removed = {diff[1].name for diff in _differences(conn, MetaData()) if diff[0] == "remove_table"}
    assert removed == TABLES


def _ddl_clauses(conn: Connection) -> dict[str, list[str]]:
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master "
        "WHERE sql IS NOT NULL AND tbl_name NOT IN ('alembic_version', 'sqlite_sequence') "
        "AND tbl_name NOT LIKE 'phone_numbers_digits%' AND type != 'trigger'"
    )
    return {
        name: sorted(line.strip().rstrip(",").strip() for line in sql.splitlines())
        for name, sql in rows
    }


@pytest.mark.sqlite_only
def test_migrated_ddl_matches_create_all(conn: Connection, tmp_path: Path) -> None:
    """What compare_metadata cannot see: AUTOINCREMENT, ON DELETE, a partial index's WHERE."""
    engine = create_engine(f"sqlite:///{tmp_path / 'create_all.db'}")
    try:
        metadata.create_all(engine)
        with engine.connect() as fresh:
            expected = _ddl_clauses(fresh)
    finally:
        engine.dispose()
    migrated = _ddl_clauses(conn)
    assert migrated == expected
    assert "WHERE is_preferred" in " ".join(migrated["uq_phone_numbers_one_preferred"])


def test_the_preferred_index_is_partial_on_postgresql(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        pytest.skip("the SQLite DDL is checked clause by clause above")
    definition = conn.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_phone_numbers_one_preferred'")
    ).scalar_one()
    assert "UNIQUE" in definition
    assert definition.endswith("WHERE is_preferred")


# --- (b) one preferred number per constituent, held by the database ------------


def test_a_second_preferred_number_is_refused(conn: Connection, owner: tuple[int, int]) -> None:
    account_id, constituent_id = owner
    with conn.begin():
        _number(conn, account_id, constituent_id, preferred=True)
    with pytest.raises(IntegrityError), conn.begin():
        _number(conn, account_id, constituent_id, preferred=True)
    count = select(func.count()).select_from(phone_numbers)
    assert conn.execute(count).scalar_one() == 1


def test_making_a_second_number_preferred_by_update_is_refused(
    conn: Connection, owner: tuple[int, int]
) -> None:
    account_id, constituent_id = owner
    with conn.begin():
        _number(conn, account_id, constituent_id, preferred=True)
        other = _number(conn, account_id, constituent_id, preferred=False)
    with pytest.raises(IntegrityError), conn.begin():
        conn.execute(
            update(phone_numbers).where(phone_numbers.c.id == other).values(is_preferred=True)
        )


def test_non_preferred_numbers_are_unlimited(conn: Connection, owner: tuple[int, int]) -> None:
    account_id, constituent_id = owner
    with conn.begin():
        _number(conn, account_id, constituent_id, preferred=True)
        for _ in range(3):
            _number(conn, account_id, constituent_id, preferred=False)
    count = select(func.count()).where(phone_numbers.c.constituent_id == constituent_id)
    assert conn.execute(count).scalar_one() == 4


def test_two_constituents_may_each_have_a_preferred_number(
    conn: Connection, owner: tuple[int, int]
) -> None:
    account_id, first = owner
    with conn.begin():
        second = _constituent(conn, account_id)
        _number(conn, account_id, first, preferred=True)
        _number(conn, account_id, second, preferred=True)
    preferred = select(func.count()).where(phone_numbers.c.is_preferred.is_(True))
    assert conn.execute(preferred).scalar_one() == 2


# --- (c) a number stays in its constituent's account ---------------------------


def test_a_number_cannot_reference_another_accounts_constituent(
    conn: Connection, owner: tuple[int, int]
) -> None:
    _, constituent_id = owner
    with conn.begin():
        other_account = _account(conn, "B")
    with pytest.raises(IntegrityError), conn.begin():
        _number(conn, other_account, constituent_id)
    assert conn.execute(select(func.count()).select_from(phone_numbers)).scalar_one() == 0


def test_a_number_cannot_reference_a_missing_constituent(
    conn: Connection, owner: tuple[int, int]
) -> None:
    account_id, constituent_id = owner
    with pytest.raises(IntegrityError), conn.begin():
        _number(conn, account_id, constituent_id + 1000)


# --- (d) ids are never reused ---------------------------------------------------


def test_number_ids_are_never_reused_after_deleting_the_highest(api: Api) -> None:
    constituent_id = api.constituent()
    earlier = [api.number(constituent_id)["id"] for _ in range(3)]
    highest = max(earlier)
    assert api.delete(f"/api/v1/phone_numbers/{highest}").status_code == 200
    new_id = api.number(constituent_id)["id"]
    assert new_id > highest


def test_constituent_ids_are_never_reused_after_deleting_the_highest(api: Api) -> None:
    earlier = [api.constituent() for _ in range(3)]
    highest = max(earlier)
    assert api.delete(f"/api/v1/constituents/{highest}").status_code == 200
    assert api.constituent() > highest


# --- (e) pragmas on every connection ---------------------------------------------


def _pragmas(conn: Connection) -> dict[str, Any]:
    names = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
    return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}


def _check_pragmas(found: dict[str, Any], busy_timeout: int) -> None:
    assert str(found["journal_mode"]).lower() == "wal"
    assert found["foreign_keys"] == 1
    assert found["synchronous"] == 2  # FULL
    assert found["busy_timeout"] == busy_timeout > 0


@pytest.mark.sqlite_only
def test_every_pooled_connection_has_the_pragmas(database: Database) -> None:
    with ExitStack() as stack:
        # Held open together, so each is a distinct DBAPI connection.
        held = [stack.enter_context(database.engine.connect()) for _ in range(3)]
        held.append(stack.enter_context(database.reading()))
        assert len({id(c.connection.dbapi_connection) for c in held}) == len(held)
        for connection in held:
            _check_pragmas(_pragmas(connection), 5000)
    with database.writing() as connection:
        _check_pragmas(_pragmas(connection), 5000)


@pytest.mark.sqlite_only
def test_the_busy_timeout_is_the_configured_one(database_url: str) -> None:
    db = Database(database_url, sqlite_busy_timeout_ms=1234)
    try:
        with db.engine.connect() as connection:
            _check_pragmas(_pragmas(connection), 1234)
    finally:
        db.dispose()


# --- (f) deleting a constituent cascades in the database ------------------------


def test_deleting_a_constituent_row_deletes_its_numbers(
    conn: Connection, owner: tuple[int, int]
) -> None:
    account_id, doomed = owner
    with conn.begin():
        kept = _constituent(conn, account_id)
        for _ in range(3):
            _number(conn, account_id, doomed)
        kept_number = _number(conn, account_id, kept)
    with conn.begin():
        conn.execute(delete(constituents).where(constituents.c.id == doomed))
    remaining = conn.execute(select(phone_numbers.c.id)).scalars().all()
    assert remaining == [kept_number]


# --- (g) migrating is idempotent -------------------------------------------------


def test_upgrade_is_idempotent_and_keeps_data(database: Database) -> None:
    head = migrate.head_revision()
    assert head is not None
    assert migrate.current_revision(database) == head
    with database.writing() as connection:
        account_id = _account(connection, "kept")
    migrate.upgrade(database)
    migrate.upgrade(database)
    assert migrate.current_revision(database) == head
    with database.reading() as connection:
        names = connection.execute(select(accounts.c.name).where(accounts.c.id == account_id))
        assert names.scalar_one() == "kept"
        types = connection.exec_driver_sql("SELECT count(*) FROM phone_number_types")
        assert types.scalar_one() == 8
        versions = connection.exec_driver_sql("SELECT count(*) FROM alembic_version")
        assert versions.scalar_one() == 1


def test_upgrade_from_an_empty_file_reaches_head(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert migrate.current_revision(db) is None
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision()
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision()
        with db.reading() as connection:
            assert _differences(connection, metadata) == []
    finally:
        db.dispose()
