"""The audit trail: recording each change in its own transaction, and reading it back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import Connection

from phonebook.errors import not_found
from phonebook.rules.paging import Page
from phonebook.service.context import Caller, ServiceContext
from phonebook.store import audit as store
from phonebook.store import constituents as constituent_store
from phonebook.store import phone_numbers as number_store
from phonebook.store.audit import AuditEventRow
from phonebook.store.constituents import ConstituentRow
from phonebook.store.database import Database
from phonebook.store.phone_numbers import PhoneNumberRow

PHONE_NUMBER = "phone_number"
CONSTITUENT = "constituent"

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
RESTORE = "restore"

_TIMESTAMPS = ("created_at", "updated_at")
DELETED_NUMBERS = "deleted_phone_number_ids"  # beside a deleted constituent's columns
Row = TypeVar("Row", PhoneNumberRow, ConstituentRow)


def record(
    conn: Connection,
    caller: Caller,
    entity: str,
    action: str,
    *,
    before: PhoneNumberRow | ConstituentRow | None,
    after: PhoneNumberRow | ConstituentRow | None,
    now: datetime,
    deleted_numbers: Sequence[int] = (),
) -> None:
    """Append one event inside the caller's transaction: it commits or vanishes with the change.

    A constituent's deletion also lists the numbers deleted with it, so a
    restore can bring them back together.
    """
    subject = after if after is not None else before
    assert subject is not None, "an event records at least one state"
    store.append(
        conn,
        {
            "account_id": caller.account_id,
            "key_id": caller.key_id or None,
            "entity": entity,
            "entity_id": subject.id,
            "action": action,
            "state_before": _encode(before, deleted_numbers),
            "state_after": _encode(after),
            "occurred_at": now,
        },
    )


def _encode(row: NamedTuple | None, deleted_numbers: Sequence[int] = ()) -> str | None:
    # orjson writes datetimes as ISO 8601, which datetime.fromisoformat reads back.
    if row is None:
        return None
    state = row._asdict()
    if deleted_numbers:
        state[DELETED_NUMBERS] = list(deleted_numbers)
    return orjson.dumps(state).decode()


def decode(kind: type[Row], state: str | None) -> Row | None:
    """A stored state as the row type it was taken from; fields added later read as None."""
    if state is None:
        return None
    values: dict[str, Any] = orjson.loads(state)
    for name in _TIMESTAMPS:
        if isinstance(values.get(name), str):
            values[name] = datetime.fromisoformat(values[name])
    fields: list[Any] = [values.get(name) for name in kind._fields]
    return kind(*fields)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    event: AuditEventRow
    before: PhoneNumberRow | ConstituentRow | None
    after: PhoneNumberRow | ConstituentRow | None


def _history(
    ctx: ServiceContext,
    caller: Caller,
    entity: str,
    entity_id: int,
    wanted: Page,
    kind: type[Row],
    exists: Callable[[Connection, int, int], object],
) -> tuple[list[HistoryEvent], int]:
    account = caller.account_id
    with ctx.database.reading() as conn:
        events, total = store.page_for(
            conn, account, entity, entity_id, wanted.limit, wanted.offset
        )
        # An object stored before the trail existed has no events yet, but is there.
        if total == 0 and exists(conn, account, entity_id) is None:
            raise not_found(f"No {entity.replace('_', ' ')} has id {entity_id}.")
    items = [
        HistoryEvent(e, decode(kind, e.state_before), decode(kind, e.state_after)) for e in events
    ]
    return items, total


def number_history(
    ctx: ServiceContext, caller: Caller, number_id: int, wanted: Page
) -> tuple[list[HistoryEvent], int]:
    """A number's events, oldest first; also once it is deleted."""
    return _history(ctx, caller, PHONE_NUMBER, number_id, wanted, PhoneNumberRow, number_store.get)


def constituent_history(
    ctx: ServiceContext, caller: Caller, constituent_id: int, wanted: Page
) -> tuple[list[HistoryEvent], int]:
    """A constituent's own events (its numbers have theirs), oldest first."""
    return _history(
        ctx, caller, CONSTITUENT, constituent_id, wanted, ConstituentRow, constituent_store.get
    )


def last_deleted_number(conn: Connection, caller: Caller, number_id: int) -> PhoneNumberRow | None:
    """The number as it was when deleted, if its latest event is its deletion."""
    latest = store.latest_for(conn, caller.account_id, PHONE_NUMBER, number_id)
    if latest is None or latest.action != DELETE:
        return None
    return decode(PhoneNumberRow, latest.state_before)


def last_deleted_constituent(
    conn: Connection, caller: Caller, constituent_id: int
) -> tuple[ConstituentRow, list[int]] | None:
    """The constituent as deleted, and the numbers deleted with it, if that is its latest event."""
    latest = store.latest_for(conn, caller.account_id, CONSTITUENT, constituent_id)
    if latest is None or latest.action != DELETE or latest.state_before is None:
        return None
    row = decode(ConstituentRow, latest.state_before)
    assert row is not None
    numbers: list[int] = orjson.loads(latest.state_before).get(DELETED_NUMBERS, [])
    return row, numbers


def recent(
    database: Database,
    *,
    account_id: int | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> list[AuditEventRow]:
    """The latest events matching the filters given, oldest of them first (phonebook audit)."""
    with database.reading() as conn:
        return store.listing(
            conn, account_id=account_id, entity=entity, entity_id=entity_id, limit=limit
        )


def as_record(event: AuditEventRow) -> dict[str, Any]:
    """An event with its states as objects: one line of `phonebook audit`."""
    record = event._asdict()
    for name in ("state_before", "state_after"):
        text = record.pop(name)
        record[name.removeprefix("state_")] = None if text is None else orjson.loads(text)
    return record
