"""Constituent rows and the reverse lookup; every query is scoped to an account."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from phonebook.rules.search_terms import SearchTerms
from phonebook.store.database import inserted_id
from phonebook.store.fast_reads import FastReads
from phonebook.store.tables import constituents as t
from phonebook.store.tables import phone_numbers


class ConstituentRow(NamedTuple):
    id: int
    external_constituent_id: str | None
    is_org: bool
    prefix: str | None
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    suffix: str | None
    org_name: str | None
    job_title: str | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    t.c.id,
    t.c.external_constituent_id,
    t.c.is_org,
    t.c.prefix,
    t.c.first_name,
    t.c.middle_name,
    t.c.last_name,
    t.c.suffix,
    t.c.org_name,
    t.c.job_title,
    t.c.created_at,
    t.c.updated_at,
)
_NAME_COLUMNS = (t.c.first_name, t.c.middle_name, t.c.last_name, t.c.org_name)


_BY_ID = select(*_COLUMNS).where(
    t.c.id == bindparam("id"), t.c.account_id == bindparam("account_id")
)
_BY_ID_LOCKED = _BY_ID.with_for_update()
_INSERT = insert(t)
_UPDATE = update(t).where(t.c.id == bindparam("b_id"))


def get(
    conn: Connection, account_id: int, constituent_id: int, *, lock: bool = False
) -> ConstituentRow | None:
    """One constituent; lock=True holds its row for the rest of the transaction.

    Writers that touch a constituent's numbers lock it first, so two requests
    changing the same constituent's preferred number run one after the other
    (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction already
    serialises writers).
    """
    query = _BY_ID_LOCKED if lock else _BY_ID
    row = conn.execute(query, {"id": constituent_id, "account_id": account_id}).first()
    return None if row is None else ConstituentRow._make(row)


_EXISTS = select(t.c.id).where(t.c.id == bindparam("id"), t.c.account_id == bindparam("account_id"))


def read_exists(fast: FastReads, account_id: int, constituent_id: int) -> bool:
    """Whether the account has this constituent, on the hot path."""
    return bool(fast.rows(_EXISTS, {"id": constituent_id, "account_id": account_id}))


def _conditions(account_id: int, terms: SearchTerms) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [t.c.account_id == account_id]
    for digits in terms.phone_digits:
        conditions.append(
            exists().where(
                phone_numbers.c.constituent_id == t.c.id,
                phone_numbers.c.normalized_number.contains(digits, autoescape=True),
            )
        )
    for name in terms.names:
        needle = name.lower()
        conditions.append(
            or_(*(func.lower(c).contains(needle, autoescape=True) for c in _NAME_COLUMNS))
        )
    conditions.extend(t.c.external_constituent_id == ext for ext in terms.external_ids)
    return conditions


def _filtered(account_id: int, terms: SearchTerms) -> Select[Any]:
    return select(*_COLUMNS).where(and_(*_conditions(account_id, terms)))


def search(
    conn: Connection, account_id: int, terms: SearchTerms, limit: int, offset: int
) -> list[ConstituentRow]:
    query = _filtered(account_id, terms).order_by(t.c.id).limit(limit).offset(offset)
    return [ConstituentRow._make(row) for row in conn.execute(query)]


def count(conn: Connection, account_id: int, terms: SearchTerms) -> int:
    query = select(func.count()).where(and_(*_conditions(account_id, terms)))
    return int(conn.execute(query).scalar_one())


def insert_constituent(conn: Connection, account_id: int, values: Mapping[str, Any]) -> int:
    return inserted_id(conn.execute(_INSERT, {"account_id": account_id, **values}))


def update_constituent(conn: Connection, constituent_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(_UPDATE, {"b_id": constituent_id, **values})


def delete_constituent(conn: Connection, account_id: int, constituent_id: int) -> bool:
    result = conn.execute(delete(t).where(t.c.id == constituent_id, t.c.account_id == account_id))
    return result.rowcount > 0
