"""Constituent use cases: the LGL subset phone numbers hang off (CONTRACT §1, §7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from phonebook.clock import utc_now
from phonebook.errors import conflict, invalid_field, not_found
from phonebook.rules.constituent_input import NAME_FIELDS, ConstituentInput, missing_name
from phonebook.rules.paging import Page
from phonebook.rules.search_terms import SearchTerms
from phonebook.service import audit, phone_numbers, versions
from phonebook.service.context import Caller, ServiceContext
from phonebook.service.retry import retried
from phonebook.store import constituents as store
from phonebook.store import phone_numbers as number_store
from phonebook.store.constituents import ConstituentRow
from phonebook.store.phone_numbers import PhoneNumberRow


@dataclass(frozen=True, slots=True)
class ConstituentView:
    """A constituent and, when embedded, its phone numbers."""

    row: ConstituentRow
    numbers: list[PhoneNumberRow] | None = None


def page(
    ctx: ServiceContext, caller: Caller, terms: SearchTerms, wanted: Page, *, expand: bool
) -> tuple[list[ConstituentView], int]:
    """One page of the account's constituents matching terms, and the total."""
    account = caller.account_id
    if store.is_phone_lookup(terms):
        return _phone_lookup(ctx, account, terms.phone_digits[0], wanted, expand=expand)
    with ctx.database.reading() as conn:
        rows, total = store.search_page(conn, account, terms, wanted.limit, wanted.offset)
        if not expand:
            return [ConstituentView(row) for row in rows], total
        numbers = _numbers_by_constituent(conn, account, [row.id for row in rows])
    return [ConstituentView(row, numbers.get(row.id, [])) for row in rows], total


def _phone_lookup(
    ctx: ServiceContext, account: int, digits: str, wanted: Page, *, expand: bool
) -> tuple[list[ConstituentView], int]:
    """page() for a lone phone term, the usual reverse lookup, on the hot path."""
    fast = ctx.database.fast
    rows, total = store.read_phone_lookup(fast, account, digits, wanted.limit, wanted.offset)
    if not expand:
        return [ConstituentView(row) for row in rows], total
    grouped: dict[int, list[PhoneNumberRow]] = {row.id: [] for row in rows}
    for number in number_store.read_for_constituents(fast, account, list(grouped)):
        grouped[number.constituent_id].append(number)
    return [ConstituentView(row, grouped[row.id]) for row in rows], total


def _numbers_by_constituent(
    conn: Connection, account_id: int, ids: list[int]
) -> dict[int, list[PhoneNumberRow]]:
    grouped: dict[int, list[PhoneNumberRow]] = {}
    for number in number_store.all_for_constituents(conn, account_id, ids):
        grouped.setdefault(number.constituent_id, []).append(number)
    return grouped


def _view(conn: Connection, account_id: int, constituent_id: int) -> ConstituentView:
    row = store.get(conn, account_id, constituent_id)
    if row is None:
        raise not_found(f"No constituent has id {constituent_id}.")
    numbers = _numbers_by_constituent(conn, account_id, [constituent_id])
    return ConstituentView(row, numbers.get(constituent_id, []))


def get(ctx: ServiceContext, caller: Caller, constituent_id: int) -> ConstituentView:
    with ctx.database.reading() as conn:
        return _view(conn, caller.account_id, constituent_id)


def _require_name(merged: Mapping[str, object]) -> None:
    missing = missing_name(merged)
    if missing is not None:
        why = "is required for an organisation (is_org)" if missing == "org_name" else "is required"
        raise invalid_field(missing, why)


@retried
def create(ctx: ServiceContext, caller: Caller, data: ConstituentInput) -> ConstituentView:
    """The constituent and all its numbers in one transaction, or nothing."""
    values: dict[str, Any] = {"is_org": False, **dict.fromkeys(NAME_FIELDS), **data.values}
    _require_name(values)
    numbers = [
        phone_numbers.new_number_values(ctx, number, prefix=f"phone_numbers[{index}].")
        for index, number in enumerate(data.phone_numbers)
    ]
    account = caller.account_id
    with ctx.database.writing() as conn:
        now = utc_now()
        row = {**values, "created_at": now, "updated_at": now}
        new_id = store.insert_constituent(conn, account, row)
        # The row as stored, without reading it back: the database adds only the id.
        fields: dict[str, Any] = {n: row.get(n) for n in ConstituentRow._fields if n != "id"}
        created = ConstituentRow(id=new_id, **fields)
        audit.record(
            conn, caller, audit.CONSTITUENT, audit.CREATE, before=None, after=created, now=now
        )
        for number in numbers:
            phone_numbers.insert_in(conn, caller, new_id, number, now)
        return _view(conn, account, new_id)


@retried
def update(
    ctx: ServiceContext,
    caller: Caller,
    constituent_id: int,
    data: ConstituentInput,
    if_match: versions.IfMatch = None,
) -> ConstituentView:
    """A partial update; one that changes nothing writes nothing."""
    account = caller.account_id
    with ctx.database.writing() as conn:
        current = store.get(conn, account, constituent_id, lock=True)
        if current is None:
            raise not_found(f"No constituent has id {constituent_id}.")
        if if_match is not None:
            versions.check(
                if_match, versions.constituent_etag(_view(conn, account, constituent_id))
            )
        before = current._asdict()
        _require_name({**before, **data.values})
        changes: dict[str, Any] = {k: v for k, v in data.values.items() if before[k] != v}
        if changes:
            now = utc_now()
            store.update_constituent(conn, constituent_id, {**changes, "updated_at": now})
            updated = current._replace(**changes, updated_at=now)
            audit.record(
                conn,
                caller,
                audit.CONSTITUENT,
                audit.UPDATE,
                before=current,
                after=updated,
                now=now,
            )
        return _view(conn, account, constituent_id)


@retried
def delete(
    ctx: ServiceContext, caller: Caller, constituent_id: int, if_match: versions.IfMatch = None
) -> None:
    """Delete the constituent and its numbers together."""
    account = caller.account_id
    with ctx.database.writing() as conn:
        current = store.get(conn, account, constituent_id, lock=True)
        if current is None:
            raise not_found(f"No constituent has id {constituent_id}.")
        if if_match is not None:
            view = _view(conn, account, constituent_id)
            versions.check(if_match, versions.constituent_etag(view))
        now = utc_now()
        # Each number's deletion is its own event, so its history ends and it can be restored.
        numbers = number_store.delete_for_constituent(conn, account, constituent_id)
        for number in numbers:
            audit.record(
                conn, caller, audit.PHONE_NUMBER, audit.DELETE, before=number, after=None, now=now
            )
        store.delete_constituent(conn, account, constituent_id)
        audit.record(
            conn,
            caller,
            audit.CONSTITUENT,
            audit.DELETE,
            before=current,
            after=None,
            now=now,
            deleted_numbers=[number.id for number in numbers],
        )


@retried
def restore(ctx: ServiceContext, caller: Caller, constituent_id: int) -> ConstituentView:
    """Bring a deleted constituent back from the audit trail, with its id and the
    numbers deleted with it."""
    account = caller.account_id
    with ctx.database.writing() as conn:
        if store.get(conn, account, constituent_id) is not None:
            raise conflict(f"Constituent {constituent_id} is not deleted.")
        found = audit.last_deleted_constituent(conn, caller, constituent_id)
        if found is None:
            # Restored by another request since the check above: a 409 (see phone_numbers).
            if store.get(conn, account, constituent_id) is not None:
                raise conflict(f"Constituent {constituent_id} is not deleted.")
            raise not_found(f"No deleted constituent has id {constituent_id}.")
        deleted, number_ids = found
        now = utc_now()
        restored = deleted._replace(updated_at=now)
        store.insert_constituent(conn, account, restored._asdict())
        audit.record(
            conn, caller, audit.CONSTITUENT, audit.RESTORE, before=None, after=restored, now=now
        )
        for number_id in number_ids:
            number = audit.last_deleted_number(conn, caller, number_id)
            if number is not None:
                phone_numbers.restore_in(conn, caller, number, now)
        return _view(conn, account, constituent_id)
