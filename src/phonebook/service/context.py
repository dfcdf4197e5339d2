"""What every use case needs, built once when an entrypoint starts."""

from __future__ import annotations

from dataclasses import dataclass

from phonebook.service.types import TypeCatalog
from phonebook.store.database import Database


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated key a request acts as."""

    key_id: int  # 0 for the operator at the command line: no key, recorded as none
    account_id: int
    read_only: bool

    @classmethod
    def operator(cls, account_id: int) -> Caller:
        """Acting on an account from the command line, not through a key."""
        return cls(key_id=0, account_id=account_id, read_only=False)


@dataclass(frozen=True, slots=True)
class ServiceContext:
    database: Database
    types: TypeCatalog

    @classmethod
    def open(cls, database: Database) -> ServiceContext:
        return cls(database=database, types=TypeCatalog.load(database))
