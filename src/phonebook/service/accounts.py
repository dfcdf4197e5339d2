"""Accounts and API keys: create, authenticate, revoke."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Final

from phonebook.clock import utc_now
from phonebook.errors import not_found
from phonebook.service.context import Caller
from phonebook.store import accounts as store
from phonebook.store.database import Database

KEY_PREFIX: Final = "pb_"


def hash_key(key: str) -> str:
    """Keys carry 256 random bits, so one SHA-256 (not a slow KDF) protects them at rest."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_account(database: Database, name: str) -> int:
    with database.writing() as conn:
        return store.insert_account(conn, name, utc_now())


def create_key(database: Database, account_id: int, *, read_only: bool, label: str = "") -> str:
    """A new key for the account, returned once; only its hash is stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with database.writing() as conn:
        if not store.account_exists(conn, account_id):
            raise not_found(f"No account has id {account_id}.")
        store.insert_key(
            conn, account_id, hash_key(key), read_only=read_only, label=label, now=utc_now()
        )
    return key


def revoke_key(database: Database, key: str) -> bool:
    with database.writing() as conn:
        return store.revoke_key(conn, hash_key(key), utc_now())


class KeyCache:
    """Keys seen lately, so most requests skip the key lookup.

    Only valid keys are kept (unknown ones would let a caller fill memory), for
    ttl seconds: a key revoked by another process stops working within ttl.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Caller, float]] = {}

    def get(self, key_hash: str) -> Caller | None:
        found = self._entries.get(key_hash)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, key_hash: str, caller: Caller) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (caller, time.monotonic() + self.ttl)


def authenticate(database: Database, key: str, cache: KeyCache | None = None) -> Caller | None:
    """The caller a key stands for, or None when it is unknown or revoked."""
    return authenticate_hash(database, hash_key(key), cache)


def authenticate_hash(
    database: Database, key_hash: str, cache: KeyCache | None = None
) -> Caller | None:
    """authenticate, given the key's hash.

    The lookup is by hash on a unique index, so timing reveals nothing about
    how much of a guessed key was right.
    """
    cached = cache.get(key_hash) if cache else None
    if cached is not None:
        return cached
    row = store.read_active_key(database.fast, key_hash)
    if row is None:
        return None
    caller = Caller(row.id, row.account_id, row.read_only)
    if cache:
        cache.put(key_hash, caller)
    return caller


def ensure_account(database: Database, name: str) -> int:
    """The id of the first account with this name, created if there is none."""
    with database.writing() as conn:
        found = store.account_id_by_name(conn, name)
        return found if found is not None else store.insert_account(conn, name, utc_now())


def replace_labelled_key(database: Database, account_id: int, label: str) -> str:
    """Revoke the account's keys with this label and create a fresh read-write one."""
    with database.writing() as conn:
        store.revoke_labelled_keys(conn, account_id, label, utc_now())
    return create_key(database, account_id, read_only=False, label=label)
