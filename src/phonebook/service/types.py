"""The phone number type catalogue and the type rules (CONTRACT §3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from phonebook.errors import ApiError, invalid_field, unprocessable
from phonebook.store.database import Database
from phonebook.store.types import TypeRow, all_types

HOME_TYPE_ID: Final = 1


class TypeCatalog:
    """Types, loaded once at start-up: no route changes them."""

    def __init__(self, types: Sequence[TypeRow]) -> None:
        self.all = tuple(types)
        self._by_id = {t.id: t for t in types}
        self._by_name = {t.name.lower(): t for t in types}

    @classmethod
    def load(cls, database: Database) -> TypeCatalog:
        with database.reading() as conn:
            return cls(all_types(conn))

    def name_of(self, type_id: int) -> str:
        found = self._by_id.get(type_id)
        return found.name if found else ""

    def by_id(self, type_id: int) -> TypeRow:
        return self._by_id[type_id]

    def resolve(self, type_id: int | None, type_name: str | None) -> TypeRow | None:
        """The type a body names, None when it names none; unknown or contradictory: 422."""
        by_id = by_name = None
        if type_id is not None:
            by_id = self._by_id.get(type_id)
            if by_id is None:
                raise invalid_field(
                    "phone_number_type_id", f"no phone number type has id {type_id}"
                )
        if type_name is not None:
            by_name = self._by_name.get(type_name.lower())
            if by_name is None:
                raise invalid_field(
                    "phone_type_name", f"no phone number type is named {type_name!r}"
                )
        if by_id and by_name and by_id.id != by_name.id:
            raise _contradiction(by_id, by_name)
        return by_id or by_name


def _contradiction(by_id: TypeRow, by_name: TypeRow) -> ApiError:
    message = f"names type {by_name.name} but phone_number_type_id {by_id.id} is {by_id.name}"
    return unprocessable(
        "phone_number_type_id and phone_type_name name different types.",
        {"phone_type_name": [message]},
    )
