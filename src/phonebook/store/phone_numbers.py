"""Phone number rows: every query is scoped to an account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from phonebook.store import direct
from phonebook.store.fast_reads import DIALECTS, FastReads, ids_parameter, in_ids, paged
from phonebook.store.tables import phone_numbers as t


class PhoneNumberRow(NamedTuple):
    id: int
    constituent_id: int
    number: str
    phone_number_type_id: int
    is_preferred: bool
    not_current: bool
    normalized_number: str | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    t.c.id,
    t.c.constituent_id,
    t.c.number,
    t.c.phone_number_type_id,
    t.c.is_preferred,
    t.c.not_current,
    t.c.normalized_number,
    t.c.created_at,
    t.c.updated_at,
)

# Built once: the hot path only binds parameters.
_BY_ID = select(*_COLUMNS).where(
    t.c.id == bindparam("id"), t.c.account_id == bindparam("account_id")
)
_PAGE = paged(
    select(*_COLUMNS)
    .where(
        t.c.constituent_id == bindparam("constituent_id"),
        t.c.account_id == bindparam("account_id"),
    )
    .order_by(t.c.id),
    "limit",
    "offset",
)
_COUNT = select(func.count()).where(
    t.c.constituent_id == bindparam("constituent_id"), t.c.account_id == bindparam("account_id")
)


_BY_ID_LOCKED = _BY_ID.with_for_update()


def get(
    conn: Connection, account_id: int, number_id: int, *, lock: bool = False
) -> PhoneNumberRow | None:
    """One number; lock=True holds its row until the transaction ends (PostgreSQL)."""
    query = _BY_ID_LOCKED if lock else _BY_ID
    found = direct.rows(conn, query, {"id": number_id, "account_id": account_id})
    return PhoneNumberRow._make(found[0]) if found else None


def read(fast: FastReads, account_id: int, number_id: int) -> PhoneNumberRow | None:
    """get, on the hot path (outside any transaction)."""
    rows = fast.rows(_BY_ID, {"id": number_id, "account_id": account_id})
    return PhoneNumberRow._make(rows[0]) if rows else None


def read_page(
    fast: FastReads, account_id: int, constituent_id: int, limit: int, offset: int
) -> tuple[list[PhoneNumberRow], int]:
    """One page of a constituent's numbers and their total, on the hot path.

    One row past the page tells whether a later page exists: when none does,
    the total follows from the page and the COUNT is skipped.
    """
    scope = {"constituent_id": constituent_id, "account_id": account_id}
    rows = fast.rows(_PAGE, {**scope, "limit": limit + 1, "offset": offset})
    last_page = bool(rows) and len(rows) <= limit
    total = offset + len(rows) if last_page else fast.rows(_COUNT, scope)[0][0]
    return [PhoneNumberRow._make(row) for row in rows[:limit]], int(total)


_OF_CONSTITUENTS = {
    dialect: select(*_COLUMNS)
    .where(t.c.account_id == bindparam("account_id"), in_ids(t.c.constituent_id, dialect))
    .order_by(t.c.id)
    for dialect in DIALECTS
}


def read_for_constituents(
    fast: FastReads, account_id: int, constituent_ids: Sequence[int]
) -> list[PhoneNumberRow]:
    """all_for_constituents, on the hot path (ordered by id)."""
    if not constituent_ids:
        return []
    dialect = fast.engine.dialect.name
    ids = ids_parameter(dialect, constituent_ids)
    found = fast.rows(_OF_CONSTITUENTS[dialect], {"account_id": account_id, **ids})
    return [PhoneNumberRow._make(row) for row in found]


def all_for_constituents(
    conn: Connection, account_id: int, constituent_ids: Sequence[int]
) -> list[PhoneNumberRow]:
    """Every number of these constituents, by id: for embedding in constituent responses."""
    if not constituent_ids:
        return []
    query = (
        select(*_COLUMNS)
        .where(t.c.account_id == account_id, t.c.constituent_id.in_(constituent_ids))
        .order_by(t.c.id)
    )
    return [PhoneNumberRow._make(row) for row in conn.execute(query)]


# Writes too are built once; the SET of an UPDATE comes from the parameters given.
_INSERT = insert(t).returning(t.c.id)
_UPDATE = update(t).where(t.c.id == bindparam("b_id"))
# Locked (PostgreSQL): a concurrent delete or edit of that number is waited for,
# and the row re-read, so the update and its audit event see what is there.
_PREFERRED = (
    select(*_COLUMNS)
    .where(
        t.c.constituent_id == bindparam("constituent_id"),
        t.c.is_preferred.is_(True),
        t.c.id != bindparam("except_id"),
    )
    .with_for_update()
)
_DELETE = (
    delete(t)
    .where(t.c.id == bindparam("id"), t.c.account_id == bindparam("account_id"))
    .returning(*_COLUMNS)
)


def insert_number(conn: Connection, account_id: int, values: Mapping[str, Any]) -> int:
    return int(direct.rows(conn, _INSERT, {"account_id": account_id, **values})[0][0])


def update_number(conn: Connection, number_id: int, values: Mapping[str, Any]) -> None:
    direct.run(conn, _UPDATE, {"b_id": number_id, **values})


def preferred(
    conn: Connection, constituent_id: int, except_id: int | None = None
) -> list[PhoneNumberRow]:
    """The constituent's preferred number (at most one) unless it is except_id."""
    params = {"constituent_id": constituent_id, "except_id": except_id or 0}
    return [PhoneNumberRow._make(row) for row in direct.rows(conn, _PREFERRED, params)]


def delete_number(conn: Connection, account_id: int, number_id: int) -> PhoneNumberRow | None:
    """Delete the number; the row as it was, or None if the account has no such number."""
    found = direct.rows(conn, _DELETE, {"id": number_id, "account_id": account_id})
    return PhoneNumberRow._make(found[0]) if found else None


def delete_for_constituent(
    conn: Connection, account_id: int, constituent_id: int
) -> list[PhoneNumberRow]:
    """Delete the constituent's numbers; the rows as they were, for the audit trail."""
    query = (
        delete(t)
        .where(t.c.constituent_id == constituent_id, t.c.account_id == account_id)
        .returning(*_COLUMNS)
    )
    return sorted(PhoneNumberRow._make(row) for row in conn.execute(query))
