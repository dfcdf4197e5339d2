"""Audit events: appended in the transaction of each change, read back by entity."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, insert, select

from phonebook.store import direct
from phonebook.store.fast_reads import paged
from phonebook.store.tables import audit_events as t


class AuditEventRow(NamedTuple):
    id: int
    account_id: int
    key_id: int | None
    entity: str
    entity_id: int
    action: str
    state_before: str | None  # the row's columns as JSON; None on a create
    state_after: str | None  # None on a delete
    occurred_at: datetime


_COLUMNS = (
    t.c.id,
    t.c.account_id,
    t.c.key_id,
    t.c.entity,
    t.c.entity_id,
    t.c.action,
    t.c.state_before,
    t.c.state_after,
    t.c.occurred_at,
)
_INSERT = insert(t)
_OF_ENTITY = (
    t.c.account_id == bindparam("account_id"),
    t.c.entity == bindparam("entity"),
    t.c.entity_id == bindparam("entity_id"),
)
_PAGE = paged(select(*_COLUMNS).where(*_OF_ENTITY).order_by(t.c.id), "limit", "offset")
_COUNT = select(func.count()).where(*_OF_ENTITY)
_LATEST = paged(select(*_COLUMNS).where(*_OF_ENTITY).order_by(t.c.id.desc()), 1)


def append(conn: Connection, event: Mapping[str, Any]) -> None:
    direct.run(conn, _INSERT, event)


def page_for(
    conn: Connection, account_id: int, entity: str, entity_id: int, limit: int, offset: int
) -> tuple[list[AuditEventRow], int]:
    """One entity's events, oldest first, and how many it has."""
    scope = {"account_id": account_id, "entity": entity, "entity_id": entity_id}
    rows = conn.execute(_PAGE, {**scope, "limit": limit, "offset": offset}).all()
    total = conn.execute(_COUNT, scope).scalar_one()
    return [AuditEventRow._make(row) for row in rows], int(total)


def latest_for(
    conn: Connection, account_id: int, entity: str, entity_id: int
) -> AuditEventRow | None:
    scope = {"account_id": account_id, "entity": entity, "entity_id": entity_id}
    row = conn.execute(_LATEST, scope).first()
    return None if row is None else AuditEventRow._make(row)


def listing(
    conn: Connection,
    *,
    account_id: int | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> list[AuditEventRow]:
    """The latest events matching every filter given, oldest of them first (the CLI)."""
    query = select(*_COLUMNS)
    if account_id is not None:
        query = query.where(t.c.account_id == account_id)
    if entity is not None:
        query = query.where(t.c.entity == entity)
    if entity_id is not None:
        query = query.where(t.c.entity_id == entity_id)
    query = paged(query.order_by(t.c.id.desc()), limit)
    rows = conn.execute(query).all()
    return [AuditEventRow._make(row) for row in reversed(rows)]
