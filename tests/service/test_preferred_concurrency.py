"""At most one preferred number per constituent, under concurrent writers (CONTRACT §4).

Two layers are exercised: the service functions called from threads that each
own a Database (so each has its own engine and SQLite connection on one file),
and the real server process hit by concurrent HTTP clients.

What would fail if clearing the preferred flag were removed (or stopped clearing): the
second "make this one preferred" on a constituent would collide with the
partial unique index uq_phone_numbers_one_preferred, so a thread would raise
IntegrityError (service level) or a request would answer 409 (HTTP level);
without that index too, the final count of preferred numbers would exceed one.
The *_is_caught tests below prove the checks see exactly that, by turning
store.preferred into "none found".
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from phonebook.rules.constituent_input import ConstituentInput
from phonebook.rules.phone_number_input import PhoneNumberInput
from phonebook.service import accounts, constituents, phone_numbers
from phonebook.service.context import Caller, ServiceContext
from phonebook.store import phone_numbers as number_store
from phonebook.store.database import Database
from phonebook.store.phone_numbers import PhoneNumberRow
from phonebook.store.tables import phone_numbers as numbers_table
from tests.server_process import serving

THREADS = 8
UPDATES_PER_THREAD = 5  # 40 updates in all
HTTP_REQUESTS = 60
JOIN_TIMEOUT_S = 30.0

# A job gets a start function: it prepares, calls start() to wait for the others, then writes.
Job = Callable[[Callable[[], None]], None]


@dataclass
class Outcome:
    """What the threads did: the numbers they made preferred, and anything raised."""

    set_preferred: set[int] = field(default_factory=set)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, number_id: int) -> None:
        with self.lock:
            self.set_preferred.add(number_id)


def run_together(jobs: Sequence[Job], outcome: Outcome) -> None:
    """Run each job on its own thread, all released at once by a barrier; bounded in time."""
    barrier = threading.Barrier(len(jobs), timeout=JOIN_TIMEOUT_S)

    def guarded(job: Job) -> None:
        started = False

        def start() -> None:
            nonlocal started
            barrier.wait()
            started = True

        try:
            job(start)
        except BaseException as exc:  # every failure is a finding, reported by the test
            with outcome.lock:
                outcome.errors.append(exc)
            if not started:  # release the others rather than leave them waiting
                barrier.abort()

    threads = [threading.Thread(target=guarded, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a writer hung"


def preferred_ids(conn: Connection, constituent_id: int) -> list[int]:
    """Straight from the table, not through the code under test."""
    query = select(numbers_table.c.id).where(
        numbers_table.c.constituent_id == constituent_id, numbers_table.c.is_preferred.is_(True)
    )
    return [int(row_id) for row_id in conn.execute(query).scalars()]


@dataclass(frozen=True)
class Family:
    caller: Caller
    constituent_id: int
    number_ids: list[int]
    bystander: int  # another constituent, whose preferred number must stay preferred
    bystander_number_id: int

    @property
    def targets(self) -> list[int]:
        """The numbers threads make preferred: not the first (preferred at the start), nor
        the last two, so "the preferred one is one some thread set" can fail."""
        return self.number_ids[1:-2]


def make_family(database: Database) -> Family:
    """An account, a constituent with 8 numbers (the first preferred), and a bystander."""
    ctx = ServiceContext.open(database)
    account_id = accounts.create_account(database, "Concurrency")
    caller = Caller(key_id=0, account_id=account_id, read_only=False)
    numbers = tuple(
        PhoneNumberInput(number=f"222-555-{1000 + i}", is_preferred=i == 0) for i in range(8)
    )
    view = constituents.create(
        ctx, caller, ConstituentInput(values={"last_name": "Many"}, phone_numbers=numbers)
    )
    bystander = constituents.create(
        ctx,
        caller,
        ConstituentInput(
            values={"last_name": "Other"},
            phone_numbers=(PhoneNumberInput(number="333-555-0000", is_preferred=True),),
        ),
    )
    assert view.numbers is not None
    assert bystander.numbers is not None
    ids = [n.id for n in view.numbers]
    return Family(caller, view.row.id, ids, bystander.row.id, bystander.numbers[0].id)


def writer(database_url: str, family: Family, index: int, outcome: Outcome) -> Job:
    """One thread's work: its own Database, then updates with one create in the middle."""

    def job(start: Callable[[], None]) -> None:
        database = Database(database_url)
        try:
            ctx = ServiceContext.open(database)
            start()
            for step in range(UPDATES_PER_THREAD):
                if step == UPDATES_PER_THREAD // 2:
                    created = phone_numbers.create(
                        ctx,
                        family.caller,
                        family.constituent_id,
                        PhoneNumberInput(number=f"444-555-{index:04d}", is_preferred=True),
                    )
                    outcome.record(created.id)
                target = family.targets[(index + step) % len(family.targets)]
                phone_numbers.update(
                    ctx, family.caller, target, PhoneNumberInput(is_preferred=True)
                )
                outcome.record(target)
        finally:
            database.dispose()

    return job


def race(database_url: str, database: Database) -> tuple[Family, Outcome]:
    family = make_family(database)
    outcome = Outcome()
    jobs = [writer(database_url, family, index, outcome) for index in range(THREADS)]
    run_together(jobs, outcome)
    return family, outcome


def test_one_preferred_number_under_concurrent_service_writers(
    database_url: str, database: Database
) -> None:
    family, outcome = race(database_url, database)
    assert outcome.errors == []
    with database.reading() as conn:
        preferred = preferred_ids(conn, family.constituent_id)
        assert preferred_ids(conn, family.bystander) == [family.bystander_number_id]
        total = conn.execute(
            select(func.count()).where(numbers_table.c.constituent_id == family.constituent_id)
        ).scalar_one()
    assert len(preferred) == 1
    assert preferred[0] in outcome.set_preferred
    assert preferred[0] not in {family.number_ids[0], *family.number_ids[-2:]}
    assert total == len(family.number_ids) + THREADS


@pytest.fixture
def without_clear_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the rule on purpose: making a number preferred no longer clears the others."""

    def none_preferred(
        conn: Connection, constituent_id: int, except_id: int | None = None
    ) -> list[PhoneNumberRow]:
        return []

    monkeypatch.setattr(number_store, "preferred", none_preferred)


@pytest.mark.usefixtures("without_clear_preferred")
def test_a_broken_preferred_rule_is_caught_at_the_service_level(
    database_url: str, database: Database
) -> None:
    family, outcome = race(database_url, database)
    with database.reading() as conn:
        preferred = preferred_ids(conn, family.constituent_id)
    # SQLite enforces the partial unique index, so the violation surfaces as
    # IntegrityError in the writers; a database without it would show two preferred.
    collided = [e for e in outcome.errors if isinstance(e, IntegrityError)]
    assert collided or len(preferred) > 1
    assert all(isinstance(e, IntegrityError) for e in outcome.errors), outcome.errors


# HTTP: the real server process, concurrent clients.


@dataclass(frozen=True)
class Target:
    """The server and the constituent the requests fight over."""

    base_url: str
    key: str
    constituent_id: int
    number_ids: list[int]


@pytest.fixture
def http_account(database: Database) -> str:
    account_id = accounts.create_account(database, "HTTP concurrency")
    return accounts.create_key(database, account_id, read_only=False)


def client_for(base_url: str, key: str) -> httpx2.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx2.Client(base_url=base_url, headers=headers, timeout=20.0)


def setup_target(base_url: str, key: str) -> Target:
    body = {
        "last_name": "Many",
        "phone_numbers": [
            {"number": f"222-555-{1000 + i}", "is_preferred": i == 0} for i in range(6)
        ],
    }
    with client_for(base_url, key) as client:
        created = client.post("/api/v1/constituents", json=body)
    assert created.status_code == 200, created.text
    shown = created.json()
    return Target(base_url, key, shown["id"], [n["id"] for n in shown["phone_numbers"]])


def http_writer(target: Target, index: int, outcome: Outcome, statuses: list[int]) -> Job:
    """One thread's share of the requests, on its own client: PATCHes, every 5th a POST."""
    mine = range(index, HTTP_REQUESTS, THREADS)

    def job(start: Callable[[], None]) -> None:
        with client_for(target.base_url, target.key) as client:
            start()
            for n in mine:
                if n % 5 == 0:
                    path = f"/api/v1/constituents/{target.constituent_id}/phone_numbers"
                    response = client.post(
                        path, json={"number": f"444-555-{n:04d}", "is_preferred": True}
                    )
                else:
                    # Not the first (preferred at the start) nor the last: never targeted.
                    number_id = target.number_ids[1 + n % (len(target.number_ids) - 2)]
                    response = client.patch(
                        f"/api/v1/phone_numbers/{number_id}", json={"is_preferred": True}
                    )
                with outcome.lock:
                    statuses.append(response.status_code)
                if response.status_code == 200:
                    outcome.record(response.json()["id"])

    return job


def http_race(target: Target) -> tuple[Outcome, list[int], list[dict[str, Any]]]:
    outcome, statuses = Outcome(), list[int]()
    jobs = [http_writer(target, index, outcome, statuses) for index in range(THREADS)]
    run_together(jobs, outcome)
    path = f"/api/v1/constituents/{target.constituent_id}/phone_numbers?limit=100"
    with client_for(target.base_url, target.key) as client:
        listed = client.get(path)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return outcome, statuses, items


@pytest.fixture
def server_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with serving(database_url, tmp_path) as server:
        yield server.base_url


def test_one_preferred_number_under_concurrent_http_writers(
    server_url: str, http_account: str
) -> None:
    target = setup_target(server_url, http_account)
    outcome, statuses, items = http_race(target)
    assert outcome.errors == []
    assert len(statuses) == HTTP_REQUESTS
    assert set(statuses) == {200}, Counter(statuses)
    preferred = [item["id"] for item in items if item["is_preferred"] is True]
    assert len(preferred) == 1
    assert preferred[0] in outcome.set_preferred
    assert preferred[0] not in {target.number_ids[0], target.number_ids[-1]}
    assert len(items) == len(target.number_ids) + HTTP_REQUESTS // 5


# The same server, started by a Python that first makes store.preferred find nothing to clear.
_BROKEN_SERVER = (
    "import phonebook.store.phone_numbers as store\n"
    "store.preferred = lambda *args, **kwargs: []\n"
    "from phonebook.cli import main\n"
    "main()\n"
)


@pytest.fixture
def broken_server_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with serving(database_url, tmp_path, command=(sys.executable, "-c", _BROKEN_SERVER)) as server:
        yield server.base_url


def test_a_broken_preferred_rule_is_caught_over_http(
    broken_server_url: str, http_account: str
) -> None:
    target = setup_target(broken_server_url, http_account)
    outcome, statuses, items = http_race(target)
    assert outcome.errors == []
    preferred = [item["id"] for item in items if item["is_preferred"] is True]
    # The partial unique index turns each collision into IntegrityError, which the
    # app answers 409; a database without the index would show two preferred.
    assert set(statuses) != {200} or len(preferred) > 1
    assert set(statuses) <= {200, 409}, Counter(statuses)
