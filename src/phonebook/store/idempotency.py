"""Stored first responses to Idempotency-Keys."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select

from phonebook.store.tables import idempotency_keys as t


class StoredResponse(NamedTuple):
    id: int
    request_hash: str
    status_code: int
    response_body: str
    created_at: datetime


_FIND = select(t.c.id, t.c.request_hash, t.c.status_code, t.c.response_body, t.c.created_at).where(
    t.c.account_id == bindparam("account_id"), t.c.key == bindparam("key")
)


def find(conn: Connection, account_id: int, key: str) -> StoredResponse | None:
    row = conn.execute(_FIND, {"account_id": account_id, "key": key}).first()
    return None if row is None else StoredResponse._make(row)


def forget(conn: Connection, stored_id: int) -> None:
    conn.execute(delete(t).where(t.c.id == stored_id))


def remember(
    conn: Connection,
    account_id: int,
    key: str,
    request_hash: str,
    status_code: int,
    body: str,
    now: datetime,
) -> None:
    conn.execute(
        insert(t),
        {
            "account_id": account_id,
            "key": key,
            "request_hash": request_hash,
            "status_code": status_code,
            "response_body": body,
            "created_at": now,
        },
    )
