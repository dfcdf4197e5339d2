"""Accounts and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update

from phonebook.store.database import inserted_id
from phonebook.store.fast_reads import FastReads, paged
from phonebook.store.tables import accounts, api_keys


class KeyRow(NamedTuple):
    id: int
    account_id: int
    read_only: bool


_ACTIVE_KEY = select(api_keys.c.id, api_keys.c.account_id, api_keys.c.read_only).where(
    api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None)
)


def insert_account(conn: Connection, name: str, now: datetime) -> int:
    return inserted_id(conn.execute(insert(accounts).values(name=name, created_at=now)))


def account_exists(conn: Connection, account_id: int) -> bool:
    found = conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first()
    return found is not None


def account_id_by_name(conn: Connection, name: str) -> int | None:
    query = select(accounts.c.id).where(accounts.c.name == name).order_by(accounts.c.id)
    query = paged(query, 1)
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def insert_key(
    conn: Connection, account_id: int, key_hash: str, *, read_only: bool, label: str, now: datetime
) -> int:
    result = conn.execute(
        insert(api_keys).values(
            account_id=account_id,
            key_hash=key_hash,
            read_only=read_only,
            label=label,
            created_at=now,
        )
    )
    return inserted_id(result)


def read_active_key(fast: FastReads, key_hash: str) -> KeyRow | None:
    """The unrevoked key with this hash (on the hot path: every request without a cache hit)."""
    rows = fast.rows(_ACTIVE_KEY, {"key_hash": key_hash})
    return KeyRow._make(rows[0]) if rows else None


def revoke_key(conn: Connection, key_hash: str, now: datetime) -> bool:
    """Revoke one active key; False when no active key has that hash."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount > 0


def revoke_labelled_keys(conn: Connection, account_id: int, label: str, now: datetime) -> None:
    conn.execute(
        update(api_keys)
        .where(
            api_keys.c.account_id == account_id,
            api_keys.c.label == label,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
