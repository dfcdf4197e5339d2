"""The lookup index's encoding (store/digit_index.py, migration 0005) finds what a scan finds."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from phonebook.clock import utc_now
from phonebook.rules.search_terms import SearchTerms
from phonebook.service import accounts
from phonebook.service.types import HOME_TYPE_ID
from phonebook.store import constituents as constituent_store
from phonebook.store import digit_index, migrate
from phonebook.store import phone_numbers as number_store
from phonebook.store.database import Database
from phonebook.store.digit_index import PAIR_BASE, PENDING, match_query, pairs


def test_pairs_are_one_character_per_two_digits_dropping_an_odd_last_one() -> None:
    assert pairs("5502") == chr(PAIR_BASE + 55) + chr(PAIR_BASE + 2)
    assert pairs("55021") == pairs("5502")
    assert pairs("5") == ""


def test_the_query_uses_digits_below_six_and_pairs_from_both_alignments_above() -> None:
    assert match_query("555") == 'digits : "555"'
    assert match_query("55501") == 'digits : "55501"'
    assert match_query("555012") == f'{{even_pairs odd_pairs}} : "{pairs("555012")}"'
    assert match_query("5550123") == (
        f'{{even_pairs odd_pairs}} : "{pairs("555012")}" AND '
        f'{{even_pairs odd_pairs}} : "{pairs("550123")}"'
    )


class _UndoExampleError(Exception):
    """Undo an example's rows: the database outlives hypothesis's examples."""


@pytest.fixture
def account(database: Database) -> int:
    return accounts.create_account(database, "Digits")


def _number_row(owner: int, digits: str) -> dict[str, object]:
    now = utc_now()
    return {
        "constituent_id": owner,
        "number": digits or "handle",
        "normalized_number": digits or None,
        "phone_number_type_id": HOME_TYPE_ID,
        "is_preferred": False,
        "not_current": False,
        "created_at": now,
        "updated_at": now,
    }


def _new_owner(conn: Connection, account: int) -> int:
    now = utc_now()
    values = {"is_org": False, "created_at": now, "updated_at": now}
    return constituent_store.insert_constituent(conn, account, values)


def _lookup(conn: Connection, account: int, term: str) -> list[int]:
    terms = SearchTerms(phone_digits=[term])
    page, total = constituent_store.search_page(conn, account, terms, 100, 0)
    assert total == len(page)
    return [row.id for row in page]


def _stored_and_found(
    database: Database, account: int, numbers: list[str], term: str
) -> tuple[list[int], list[int]]:
    """Store numbers (a constituent each), look term up, and undo it all: owners, found."""
    try:
        with database.writing() as conn:
            owners = [_new_owner(conn, account) for _ in numbers]
            for owner, digits in zip(owners, numbers, strict=True):
                number_store.insert_number(conn, account, _number_row(owner, digits))
            found = _lookup(conn, account, term)
            raise _UndoExampleError()
    except _UndoExampleError:
        pass
    return owners, found


digit_strings = st.text(alphabet="0129", max_size=64)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(numbers=st.lists(digit_strings, min_size=1, max_size=6), data=st.data())
def test_a_lookup_finds_exactly_the_numbers_that_contain_the_digits(
    database: Database, account: int, numbers: list[str], data: st.DataObject
) -> None:
    """Against a plain scan, for terms inside stored numbers (any alignment) and made up."""
    source = data.draw(st.sampled_from(numbers))
    start = data.draw(st.integers(0, len(source)))
    inside = source[start : start + data.draw(st.integers(3, 64))]
    term = data.draw(st.one_of(st.just(inside), st.text(alphabet="0129", min_size=3, max_size=9)))
    if len(term) < 3:
        term = "0129"[: 3 - len(term)] + term
    owners, found = _stored_and_found(database, account, numbers, term)
    assert found == [owner for owner, digits in zip(owners, numbers, strict=True) if term in digits]


@pytest.mark.parametrize("term", ["123456", "1234567", "234567", "0001234"])
def test_the_last_digits_of_the_longest_numbers_are_found(
    database: Database, account: int, term: str
) -> None:
    """The index's pairs reach the 64th digit, at either alignment."""
    numbers = ["0" * 58 + "123456", "0" * 57 + "1234567"]
    owners, found = _stored_and_found(database, account, numbers, term)
    assert found == [owner for owner, digits in zip(owners, numbers, strict=True) if term in digits]
    assert found


def test_a_candidate_without_the_terms_odd_last_digit_is_not_found(
    database: Database, account: int
) -> None:
    """1234560234567 holds the pairs of 123456 and of 234567 at the two alignments, but not
    1234567: the index offers it, and the check on the row turns it away."""
    assert _stored_and_found(database, account, ["1234560234567"], "1234567")[1] == []
    owners, found = _stored_and_found(database, account, ["1234560234567"], "0234567")
    assert found == owners


def _indexed_rows(conn: Connection, digits: str) -> list[int]:
    """What the SQLite index itself holds for digits, before any check on the rows."""
    rows = conn.exec_driver_sql(
        "SELECT rowid FROM phone_numbers_digits WHERE phone_numbers_digits MATCH ?",
        (match_query(digits),),
    )
    return [row[0] for row in rows]


@contextmanager
def another_tool(database: Database) -> Iterator[Any]:
    """A connection of its own to the file, as a sqlite3 shell would write through it.

    The same SQLite library as the app's: two copies in one process would not see
    each other's POSIX locks.
    """
    path = database.url.database
    assert path is not None
    other = database.engine.dialect.loaded_dbapi.connect(path, isolation_level=None)
    try:
        yield other
    finally:
        other.close()


@pytest.fixture
def apply_every_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each commit applies its notes, as the first one after NOTES_PER_APPLY of them does."""
    monkeypatch.setattr(digit_index, "NOTES_PER_APPLY", 1)


def _pending(conn: Connection) -> list[int]:
    rows = conn.exec_driver_sql(f"SELECT id FROM {PENDING} ORDER BY id")  # noqa: S608 - a constant
    return [row[0] for row in rows]


def _to_forget(conn: Connection) -> list[int]:
    return [row[0] for row in conn.exec_driver_sql("SELECT id FROM phone_numbers_digits_forget")]


def _check_index(conn: Connection) -> None:
    conn.exec_driver_sql(
        "INSERT INTO phone_numbers_digits(phone_numbers_digits) VALUES ('integrity-check')"
    )


@pytest.mark.sqlite_only
@pytest.mark.parametrize("old", ["8885550044", "555004"])
def test_an_updated_or_deleted_number_leaves_nothing_in_the_index(
    database: Database, account: int, apply_every_commit: None, old: str
) -> None:
    """Each step its own transaction: what it noted is applied when it commits, and
    lookups never see the difference."""
    with database.writing() as conn:
        owner = _new_owner(conn, account)
        number_id = number_store.insert_number(conn, account, _number_row(owner, old))
        assert (_pending(conn), _indexed_rows(conn, old)) == ([number_id], [])
        assert _lookup(conn, account, old) == [owner]  # found while only noted
    with database.writing() as conn:
        assert (_pending(conn), _indexed_rows(conn, old)) == ([], [number_id])
        number_store.update_number(conn, number_id, {"normalized_number": "7771234"})
        assert (_to_forget(conn), _pending(conn)) == ([number_id], [number_id])
        assert _lookup(conn, account, old) == []  # still in the index, not in the row
        assert _lookup(conn, account, "7771234") == [owner]
    with database.writing() as conn:
        assert (_indexed_rows(conn, old), _indexed_rows(conn, "7771234")) == ([], [number_id])
        number_store.delete_number(conn, account, number_id)
        assert _lookup(conn, account, "7771234") == []
    with database.reading() as conn:
        assert (_pending(conn), _to_forget(conn), _indexed_rows(conn, "7771234")) == ([], [], [])
        _check_index(conn)


@pytest.mark.sqlite_only
def test_a_number_written_and_changed_in_one_transaction_is_indexed_once(
    database: Database, account: int, apply_every_commit: None
) -> None:
    """Noted, changed and deleted before the index took it: nothing to forget twice."""
    with database.writing() as conn:
        owner = _new_owner(conn, account)
        kept = number_store.insert_number(conn, account, _number_row(owner, "8885550044"))
        number_store.update_number(conn, kept, {"normalized_number": "7771234"})
        gone = number_store.insert_number(conn, account, _number_row(owner, "6665550044"))
        number_store.delete_number(conn, account, gone)
        assert (_pending(conn), _to_forget(conn)) == ([kept], [])
    with database.reading() as conn:
        assert _pending(conn) == []
        assert _indexed_rows(conn, "7771234") == [kept]
        assert _indexed_rows(conn, "5550044") == []
        assert _lookup(conn, account, "555004") == []
        _check_index(conn)


@pytest.mark.sqlite_only
def test_a_number_written_by_another_tool_is_found_then_indexed_by_the_next_write(
    database: Database, account: int, apply_every_commit: None
) -> None:
    """A sqlite3 shell's INSERT only notes the number; lookups see it at once."""
    with database.writing() as conn:
        owner = _new_owner(conn, account)
    with another_tool(database) as other:
        row = {**_number_row(owner, "8885550044"), "account_id": account}
        row["created_at"] = row["updated_at"] = "2026-11-27 00:00:00.000000"
        columns, marks = ", ".join(row), ", ".join("?" * len(row))
        insert = f"INSERT INTO phone_numbers ({columns}) VALUES ({marks})"  # noqa: S608 - names of ours
        other.execute(insert, tuple(row.values()))
    with database.reading() as conn:
        assert len(_pending(conn)) == 1
        assert _lookup(conn, account, "8555004") == [owner]
    with database.writing() as conn:
        _new_owner(conn, account)
    with database.reading() as conn:
        assert _pending(conn) == []
        assert _lookup(conn, account, "8555004") == [owner]
        assert len(_indexed_rows(conn, "8555004")) == 1


_SYSTEM_SQLITE = """
import sys
sys.modules["pysqlite3"] = None  # as where the wheel does not exist
from phonebook.store import connections, database, digit_index, migrate
from phonebook.service import accounts
digit_index.NOTES_PER_APPLY = 1  # each commit applies its notes
from tests.store.test_digit_index import _indexed_rows, _lookup, _new_owner, _number_row
from phonebook.store import phone_numbers as number_store
assert connections.SQLITE_DRIVER == "sqlite3", connections.SQLITE_DRIVER
db = database.Database("sqlite:///" + sys.argv[1])
migrate.upgrade(db)
account = accounts.create_account(db, "System")
with db.writing() as conn:
    owner = _new_owner(conn, account)
    number_id = number_store.insert_number(conn, account, _number_row(owner, "8885550044"))
    assert _lookup(conn, account, "8555004") == [owner]
    assert _lookup(conn, account, "0044") == [owner]
with db.writing() as conn:
    assert _indexed_rows(conn, "8555004") == [number_id]
    number_store.delete_number(conn, account, number_id)
with db.reading() as conn:
    assert _indexed_rows(conn, "8555004") == []
print(database.sqlite3.sqlite_version)
"""


@pytest.mark.sqlite_only
def test_the_systems_sqlite_migrates_and_looks_up(tmp_path: Path) -> None:
    """Where no pysqlite3 wheel exists the system's SQLite serves (Debian 12: 3.40.1,
    without contentless_delete, and with a parser that nested SQL overflowed)."""
    if not _system_sqlite_has_trigram():
        pytest.skip("the system's SQLite has no FTS5 trigram tokenizer (3.34+)")
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SYSTEM_SQLITE, str(tmp_path / "system.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _system_sqlite_has_trigram() -> bool:
    try:
        sqlite3.connect(":memory:").execute(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram case_sensitive 1')"
        )
    except sqlite3.OperationalError:
        return False
    return True


@pytest.mark.sqlite_only
def test_migration_0005_indexes_numbers_stored_before_it_and_goes_back(
    database: Database, account: int
) -> None:
    migrate.downgrade(database, "0004")
    with database.writing() as conn:
        owner = _new_owner(conn, account)
        number_store.insert_number(conn, account, _number_row(owner, "8885550044"))
    migrate.upgrade(database)
    with database.reading() as conn:
        for term in ("555", "0044", "555004", "8555004", "8885550044"):
            assert _lookup(conn, account, term) == [owner], term
    migrate.downgrade(database, "0004")
    with database.reading() as conn:
        matches = conn.exec_driver_sql(
            "SELECT rowid FROM phone_numbers_digits WHERE phone_numbers_digits MATCH '\"5550044\"'"
        ).all()
    assert len(matches) == 1


def test_postgresql_connections_plan_without_parallel_workers(database: Database) -> None:
    """A prepared lookup's generic plan once started two workers for one row (9 ms)."""
    if database.is_sqlite:
        pytest.skip("a PostgreSQL setting")
    with database.reading() as conn:
        assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"


_Op = tuple[str, int, str]  # ("add" | "change" | "delete" | "restore", which number, digits)
_ops = st.tuples(
    st.sampled_from(["add", "change", "delete", "restore"]),
    st.integers(0, 3),
    st.text(alphabet="0129", min_size=3, max_size=12),
)


@pytest.mark.sqlite_only
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    transactions=st.lists(st.tuples(st.lists(_ops, max_size=6), st.booleans()), max_size=5),
    per_apply=st.sampled_from([1, 3]),
)
def test_the_index_holds_exactly_the_committed_numbers(
    database: Database,
    account: int,
    monkeypatch: pytest.MonkeyPatch,
    transactions: list[tuple[list[_Op], bool]],
    per_apply: int,
) -> None:
    """Numbers added, changed, deleted and restored (same id), in transactions that
    commit or roll back, their notes applied at each commit or every few: after each,
    lookups agree with the rows; once applied, the index holds exactly the live numbers."""
    monkeypatch.setattr(digit_index, "NOTES_PER_APPLY", per_apply)
    with database.writing() as conn:
        owner = _new_owner(conn, account)
    live: dict[int, str] = {}  # id -> digits, as committed
    gone: dict[int, str] = {}
    for ops, commits in transactions:
        state, deleted = dict(live), dict(gone)
        try:
            with database.writing() as conn:
                for op, which, digits in ops:
                    _apply(conn, account, owner, (op, which, digits), state, deleted)
                if not commits:
                    raise _UndoExampleError()
            live, gone = state, deleted
        except _UndoExampleError:
            pass
        with database.reading() as conn:
            if per_apply == 1:
                assert (_pending(conn), _to_forget(conn)) == ([], [])
            for digits in {*live.values(), *gone.values()}:
                expected = [owner] if any(digits in held for held in live.values()) else []
                assert _lookup(conn, account, digits) == expected, digits
            _check_index(conn)
    with database.writing() as conn:
        digit_index.apply_notes(conn, at_least=1)
    with database.reading() as conn:
        assert (_pending(conn), _to_forget(conn)) == ([], [])
        held = conn.exec_driver_sql("SELECT count(*) FROM phone_numbers_digits_docsize")
        assert held.scalar() == len(live)
    with database.writing() as conn:  # the next example starts from an empty account
        for number_id in live:
            number_store.delete_number(conn, account, number_id)


def _apply(
    conn: Connection,
    account: int,
    owner: int,
    op: _Op,
    live: dict[int, str],
    gone: dict[int, str],
) -> None:
    kind, which, digits = op
    ids = sorted(live) if kind in ("change", "delete") else sorted(gone)
    if kind == "add":
        live[number_store.insert_number(conn, account, _number_row(owner, digits))] = digits
    elif not ids:
        return
    elif kind == "change":
        number_id = ids[which % len(ids)]
        number_store.update_number(conn, number_id, {"normalized_number": digits})
        live[number_id] = digits
    elif kind == "delete":
        number_id = ids[which % len(ids)]
        number_store.delete_number(conn, account, number_id)
        gone[number_id] = live.pop(number_id)
    else:  # restore: the same id again, as service.phone_numbers.restore does
        number_id = ids[which % len(ids)]
        row = {**_number_row(owner, gone[number_id]), "id": number_id}
        number_store.insert_number(conn, account, row)
        live[number_id] = gone.pop(number_id)


@pytest.mark.sqlite_only
def test_migration_0007_goes_back_with_its_notes_applied(
    database: Database, account: int, apply_every_commit: None
) -> None:
    """Notes left by another tool's writes are applied by the downgrade, not lost."""
    with database.writing() as conn:
        owner = _new_owner(conn, account)
        kept = number_store.insert_number(conn, account, _number_row(owner, "8885550044"))
        changed = number_store.insert_number(conn, account, _number_row(owner, "7775550011"))
    with another_tool(database) as other:  # its notes stay until the app applies them
        other.execute(
            "UPDATE phone_numbers SET normalized_number = '6665550022' WHERE id = ?", (changed,)
        )
    with database.reading() as conn:
        assert (_pending(conn), _to_forget(conn)) == ([changed], [changed])
    migrate.downgrade(database, "0006")
    with database.reading() as conn:
        assert _indexed_rows(conn, "7775550011") == []
        assert _indexed_rows(conn, "6665550022") == [changed]
        assert _indexed_rows(conn, "8885550044") == [kept]
        _check_index(conn)
    migrate.upgrade(database)
    with database.writing() as conn:
        number_store.delete_number(conn, account, kept)
    with database.reading() as conn:
        assert _lookup(conn, account, "5550044") == []
        assert _lookup(conn, account, "5550022") == [owner]
        assert _indexed_rows(conn, "8885550044") == []
        _check_index(conn)


@pytest.mark.sqlite_only
def test_notes_wait_for_enough_of_them_and_the_upkeep_applies_the_rest(
    database: Database, account: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digit_index, "NOTES_PER_APPLY", 3)
    numbers = []
    for digits in ("8885550044", "8885550045", "8885550046"):
        with database.writing() as conn:
            owner = _new_owner(conn, account)
            numbers.append(number_store.insert_number(conn, account, _number_row(owner, digits)))
        with database.reading() as conn:
            assert _lookup(conn, account, digits) == [owner]
            held = (_pending(conn), _indexed_rows(conn, digits))
        assert held == (([], numbers[-1:]) if len(numbers) == 3 else (numbers, []))
    with database.writing() as conn:
        number_store.delete_number(conn, account, numbers[0])
    with database.reading() as conn:
        assert (_to_forget(conn), _lookup(conn, account, "8885550044")) == ([numbers[0]], [])
    assert database.merge_lookup_index()  # the served app's upkeep, once writes pause
    with database.reading() as conn:
        assert (_to_forget(conn), _indexed_rows(conn, "8885550044")) == ([], [])
        _check_index(conn)
