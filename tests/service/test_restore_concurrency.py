"""Restoring the same number from several threads at once brings it back exactly once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from phonebook.errors import ApiError
from phonebook.rules.constituent_input import ConstituentInput
from phonebook.rules.phone_number_input import PhoneNumberInput
from phonebook.service import accounts, audit, constituents, phone_numbers
from phonebook.service.context import Caller, ServiceContext
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
