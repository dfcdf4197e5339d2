"""The served app merges the SQLite lookup index's segments after writes (migration 0006)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Connection

from phonebook.service import accounts
from phonebook.store import digit_index, migrate
from phonebook.store import phone_numbers as number_store
from phonebook.store.checkpoints import Checkpointer
from phonebook.store.database import Database
from tests.store.test_digit_index import _lookup, _new_owner, _number_row

pytestmark = pytest.mark.sqlite_only

NUMBERS = [f"55501{i:05d}" for i in range(60)]


@pytest.fixture(autouse=True)
def _a_segment_per_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each commit applies its notes, so each write of these tests leaves a segment."""
    monkeypatch.setattr(digit_index, "NOTES_PER_APPLY", 1)


def _segments(conn: Connection) -> int:
    found = conn.exec_driver_sql("SELECT count(DISTINCT segid) FROM phone_numbers_digits_idx")
    return int(found.scalar_one())


def _usermerge(database: Database) -> int | None:
    with database.reading() as conn:
        found = conn.exec_driver_sql(
            "SELECT v FROM phone_numbers_digits_config WHERE k = 'usermerge'"
        ).scalar()
    return None if found is None else int(found)


def _written_one_by_one(database: Database) -> tuple[int, list[int]]:
    """NUMBERS, each in a transaction of its own (a segment each): the account, the owners."""
    account = accounts.create_account(database, "Upkeep")
    owners = []
    for digits in NUMBERS:
        with database.writing() as conn:
            owner = _new_owner(conn, account)
            number_store.insert_number(conn, account, _number_row(owner, digits))
            owners.append(owner)
    return account, owners


def test_merge_steps_leave_fewer_segments_and_the_same_answers(database: Database) -> None:
    account, owners = _written_one_by_one(database)
    with database.reading() as conn:
        before = _segments(conn)
    steps = 0
    while database.merge_lookup_index():
        steps += 1
        assert steps < 100, "merging never ends"
    with database.reading() as conn:
        after = _segments(conn)
        for digits, owner in zip(NUMBERS, owners, strict=True):
            assert _lookup(conn, account, digits[-7:]) == [owner], digits
        conn.exec_driver_sql(
            "INSERT INTO phone_numbers_digits(phone_numbers_digits) VALUES ('integrity-check')"
        )
    assert steps >= 1
    assert after < before
    assert not database.merge_lookup_index()  # nothing left: a no-op


def test_migration_0006_lets_merges_join_two_segments_and_goes_back(database: Database) -> None:
    assert _usermerge(database) == 2
    migrate.downgrade(database, "0005")
    assert _usermerge(database) == 4  # FTS5's default: levels of fewer are left alone
    migrate.upgrade(database)
    assert _usermerge(database) == 2


def test_the_checkpointer_keeps_up_until_nothing_is_left(database: Database) -> None:
    """After writes pause, steps follow each other for as long as each reports more."""
    answers = [True, True, False]
    done = threading.Event()

    def upkeep() -> bool:
        more = answers.pop(0)
        if not answers:
            done.set()
        return more

    checkpointer = Checkpointer(database.engine, database.writer_turn, upkeep, quiet_s=0)
    try:
        checkpointer.after_commit()
        assert done.wait(timeout=30), "upkeep stopped before it had nothing left"
    finally:
        checkpointer.close()


def test_the_served_app_merges_the_index_after_writes(database_url: str) -> None:
    database = Database(database_url)
    database.coordinate_writers()
    try:
        _written_one_by_one(database)
        with database.reading() as conn:
            before = _segments(conn)
        database.after_commit()
        deadline = time.monotonic() + 30
        while True:  # a condition, polled: the checkpoint thread merges when it runs
            with database.reading() as conn:
                if _segments(conn) < before:
                    break
            assert time.monotonic() < deadline, "the index was never merged"
            time.sleep(0.01)
    finally:
        database.dispose()
