"""Phone number types (seeded by the initial migration; read-only over the API)."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, select

from phonebook.store.tables import phone_number_types


class TypeRow(NamedTuple):
    id: int
    name: str
    code: str
    ordinal: int


def all_types(conn: Connection) -> list[TypeRow]:
    t = phone_number_types
    rows = conn.execute(select(t.c.id, t.c.name, t.c.code, t.c.ordinal).order_by(t.c.id))
    return [TypeRow._make(row) for row in rows]
