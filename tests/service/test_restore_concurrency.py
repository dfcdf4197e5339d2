"""Restore under concurrency: once for racing restores, and after racing writers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from phonebook.clock import utc_now
from phonebook.errors import ApiError
from phonebook.rules.constituent_input import ConstituentInput
from phonebook.rules.paging import Page
from phonebook.rules.phone_number_input import PhoneNumberInput
from phonebook.service import accounts, audit, constituents, phone_numbers
from phonebook.service.context import Caller, ServiceContext
from phonebook.store import phone_numbers as number_store
from phonebook.store.database import Database
from phonebook.store.tables import audit_events
from phonebook.store.tables import phone_numbers as numbers_table

THREADS = 6


@pytest.mark.slow
def test_concurrent_restores_of_one_number_restore_it_once(
    database_url: str, database: Database
) -> None:
    ctx = ServiceContext.open(database)
    caller = Caller.operator(accounts.create_account(database, "Restorers"))
    view = constituents.create(
        ctx,
        caller,
        ConstituentInput(
            values={"last_name": "Once"},
            phone_numbers=(PhoneNumberInput(number="222-555-0100", is_preferred=True),),
        ),
    )
    assert view.numbers is not None
    number_id = view.numbers[0].id
    phone_numbers.delete(ctx, caller, number_id)

    outcomes: list[str] = []
    start = threading.Barrier(THREADS)

    def restore() -> None:
        # Each thread its own Database: its own engine and connection, as separate
        # requests (or processes) would have.
        own = Database(database_url)
        try:
            own_ctx = ServiceContext.open(own)
            start.wait()
            phone_numbers.restore(own_ctx, caller, number_id)
            outcomes.append("restored")
        except ApiError as exc:
            outcomes.append(str(exc.status))
        finally:
            own.dispose()

    threads = [threading.Thread(target=restore) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["409"] * (THREADS - 1) + ["restored"]
    with database.reading() as conn:
        count = conn.execute(
            select(func.count()).where(numbers_table.c.id == number_id)
        ).scalar_one()
        restores = conn.execute(
            select(func.count()).where(
                audit_events.c.entity_id == number_id, audit_events.c.action == audit.RESTORE
            )
        ).scalar_one()
    assert (count, restores) == (1, 1)


def _wait_for_a_lock_wait(database: Database) -> None:
    """Until some PostgreSQL backend waits on a row lock (bounded; no guessing of times)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with database.reading() as conn:
            waiting = conn.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if waiting.scalar_one():
                return
        time.sleep(0.01)
    raise AssertionError("the second writer never waited on the first")


@pytest.mark.slow
def test_a_number_deleted_while_another_becomes_preferred_can_be_restored(
    database_url: str, database: Database
) -> None:
    """PostgreSQL: B (preferred) is deleted while A is made preferred. Clearing B's flag
    must wait for the delete and then find nothing, not record an update of a deleted
    row, which would hide its deletion from restore."""
    if database.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: no interleaving to test")
    ctx = ServiceContext.open(database)
    caller = Caller.operator(accounts.create_account(database, "Race"))
    view = constituents.create(
        ctx,
        caller,
        ConstituentInput(
            values={"last_name": "Race"},
            phone_numbers=(
                PhoneNumberInput(number="222-555-0100", is_preferred=True),
                PhoneNumberInput(number="222-555-0101"),
            ),
        ),
    )
    assert view.numbers is not None
    preferred, other = view.numbers[0].id, view.numbers[1].id
    deleted, release = threading.Event(), threading.Event()

    def delete_and_hold() -> None:
        with database.writing() as conn:  # the delete use case, its commit held back
            row = number_store.delete_number(conn, caller.account_id, preferred)
            audit.record(
                conn,
                caller,
                audit.PHONE_NUMBER,
                audit.DELETE,
                before=row,
                after=None,
                now=utc_now(),
            )
            deleted.set()
            assert release.wait(10)

    def make_other_preferred() -> None:
        own = Database(database_url)
        try:
            phone_numbers.update(
                ServiceContext.open(own), caller, other, PhoneNumberInput(is_preferred=True)
            )
        finally:
            own.dispose()

    holder = threading.Thread(target=delete_and_hold)
    holder.start()
    assert deleted.wait(10)
    updater = threading.Thread(target=make_other_preferred)
    updater.start()
    _wait_for_a_lock_wait(database)
    release.set()
    holder.join(10)
    updater.join(10)

    history = audit.number_history(ctx, caller, preferred, Page(limit=10, offset=0))[0]
    assert [item.event.action for item in history] == ["create", "delete"]
    restored = phone_numbers.restore(ctx, caller, preferred)
    assert restored.is_preferred is False  # the other number became preferred meanwhile


@pytest.fixture
def other_request(database_url: str) -> Iterator[ServiceContext]:
    """A second request's context: its own engine and connection."""
    other = Database(database_url)
    try:
        yield ServiceContext.open(other)
    finally:
        other.dispose()


@pytest.fixture
def between(database: Database) -> tuple[ServiceContext, Caller]:
    """A request's context and caller, where two writers can interleave."""
    if database.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: no interleaving to test")
    return ServiceContext.open(database), Caller.operator(accounts.create_account(database, "B"))


def _restoring_after_another_restore_committed_is_409(
    monkeypatch: pytest.MonkeyPatch,
    trail_reader: str,
    restore: Callable[[ServiceContext], object],
    here: ServiceContext,
    other: ServiceContext,
) -> None:
    """The other request's restore commits right after this one found no live row.

    PostgreSQL reads each statement's latest commit, so this request's next
    statement sees the restore event, not the deletion: the answer must still be
    409 (not deleted), as if it had come a moment later, and not 404.
    """
    real = getattr(audit, trail_reader)

    def restored_meanwhile(*args: object) -> object:
        monkeypatch.setattr(audit, trail_reader, real)  # the other request reads the real trail
        restore(other)
        return real(*args)

    monkeypatch.setattr(audit, trail_reader, restored_meanwhile)
    with pytest.raises(ApiError) as raised:
        restore(here)
    assert raised.value.status == 409


def test_a_number_restored_between_two_statements_is_409(
    between: tuple[ServiceContext, Caller],
    other_request: ServiceContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx, caller = between
    numbers = (PhoneNumberInput(number="222-555-0100"),)
    view = constituents.create(ctx, caller, ConstituentInput({"last_name": "B"}, numbers))
    assert view.numbers is not None
    number_id = view.numbers[0].id
    phone_numbers.delete(ctx, caller, number_id)
    _restoring_after_another_restore_committed_is_409(
        monkeypatch,
        "last_deleted_number",
        lambda context: phone_numbers.restore(context, caller, number_id),
        ctx,
        other_request,
    )


def test_a_constituent_restored_between_two_statements_is_409(
    between: tuple[ServiceContext, Caller],
    other_request: ServiceContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx, caller = between
    constituent_id = constituents.create(ctx, caller, ConstituentInput({"last_name": "B"})).row.id
    constituents.delete(ctx, caller, constituent_id)
    _restoring_after_another_restore_committed_is_409(
        monkeypatch,
        "last_deleted_constituent",
        lambda context: constituents.restore(context, caller, constituent_id),
        ctx,
        other_request,
    )
