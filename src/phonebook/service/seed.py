"""A realistic data set, fast: constituents with numbers in mixed formats and types."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from phonebook.clock import utc_now
from phonebook.rules.numbers import normalize
from phonebook.service import accounts
from phonebook.store import bulk
from phonebook.store.database import Database

BATCH: Final = 5_000
FIRST_NAMES: Final = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Émile")
LAST_NAMES: Final = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Zoë")
# Type ids weighted as a CRM holds them: mostly Home, Mobile and Work.
TYPE_WEIGHTS: Final = ((1, 30), (2, 20), (3, 35), (4, 5), (5, 4), (6, 2), (7, 2), (8, 2))


@dataclass(frozen=True, slots=True)
class SeedResult:
    account_id: int
    first_constituent_id: int
    constituents: int
    first_number_id: int
    numbers: int


def _formatted(chance: random.Random) -> str:
    area, exchange, line = (
        chance.randrange(200, 999),
        chance.randrange(200, 999),
        chance.randrange(10**4),
    )
    style = chance.randrange(6)
    if style == 0:
        return f"({area}) {exchange}-{line:04}"
    if style == 1:
        return f"{area}-{exchange}-{line:04}"
    if style == 2:
        return f"+1 {area} {exchange} {line:04}"
    if style == 3:
        return f"{area}.{exchange}.{line:04}"
    if style == 4:
        return f"+44 20 {chance.randrange(7000, 7999)} {line:04}"
    return f"{area}{exchange}{line:04} x{chance.randrange(100, 999)}"


def _number_row(
    chance: random.Random, number_id: int, account: int, cid: int, now: datetime, preferred: bool
) -> dict[str, Any]:
    type_ids, weights = zip(*TYPE_WEIGHTS, strict=True)
    type_id = chance.choices(type_ids, weights)[0]
    number = f"handle.{number_id}" if type_id == 6 else _formatted(chance)
    return {
        "id": number_id,
        "account_id": account,
        "constituent_id": cid,
        "number": number,
        "phone_number_type_id": type_id,
        "is_preferred": preferred,
        "not_current": chance.random() < 0.05,
        "normalized_number": normalize(number),
        "created_at": now,
        "updated_at": now,
    }


def _constituent_row(
    chance: random.Random, cid: int, account: int, now: datetime
) -> dict[str, Any]:
    is_org = chance.random() < 0.1
    return {
        "id": cid,
        "account_id": account,
        "external_constituent_id": f"EXT-{cid}",
        "is_org": is_org,
        "prefix": None,
        "first_name": None if is_org else chance.choice(FIRST_NAMES),
        "middle_name": None,
        "last_name": None if is_org else chance.choice(LAST_NAMES),
        "suffix": None,
        "org_name": f"Trust {cid}" if is_org else None,
        "job_title": None,
        "created_at": now,
        "updated_at": now,
    }


def _numbers_per_constituent(total_constituents: int, total_numbers: int) -> Iterator[int]:
    """Spread total_numbers over the constituents: each gets the average, give or take one."""
    base, extra = divmod(total_numbers, total_constituents)
    for index in range(total_constituents):
        yield base + (1 if index < extra else 0)


def seed(
    database: Database,
    account_name: str,
    constituents: int,
    numbers: int,
    progress: Callable[[int], None] = lambda _done: None,
    seed_value: int = 1,
) -> SeedResult:
    """Load constituents and numbers into a new account; progress(n) after each batch."""
    chance = random.Random(seed_value)  # noqa: S311 - test data, not secrets
    account = accounts.create_account(database, account_name)
    now = utc_now()
    with database.reading() as conn:
        first_cid = bulk.next_id(conn, "constituents")
        first_nid = bulk.next_id(conn, "phone_numbers")
    cid, nid = first_cid, first_nid
    people: list[dict[str, Any]] = []
    phones: list[dict[str, Any]] = []
    for count in _numbers_per_constituent(constituents, numbers) if constituents else ():
        people.append(_constituent_row(chance, cid, account, now))
        for index in range(count):
            phones.append(_number_row(chance, nid, account, cid, now, preferred=index == 0))
            nid += 1
        cid += 1
        if len(phones) >= BATCH or len(people) >= BATCH:
            _flush(database, people, phones, progress)
    _flush(database, people, phones, progress)
    with database.writing() as conn:
        bulk.after_bulk_load(conn)
    return SeedResult(account, first_cid, cid - first_cid, first_nid, nid - first_nid)


def _flush(
    database: Database,
    people: list[dict[str, Any]],
    phones: list[dict[str, Any]],
    progress: Callable[[int], None],
) -> None:
    if not people and not phones:
        return
    with database.writing() as conn:
        if people:
            bulk.insert_constituents(conn, people)
        if phones:
            bulk.insert_phone_numbers(conn, phones)
    progress(len(phones))
    people.clear()
    phones.clear()
