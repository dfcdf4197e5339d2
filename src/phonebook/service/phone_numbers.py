"""Phone number use cases (CONTRACT §2 to §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from phonebook.clock import utc_now
from phonebook.errors import ApiError, conflict, invalid_field, not_found
from phonebook.rules.fields import FieldError
from phonebook.rules.numbers import check_number_for_type, normalize
from phonebook.rules.paging import Page
from phonebook.rules.phone_number_input import PhoneNumberInput
from phonebook.service import audit, versions
from phonebook.service.context import Caller, ServiceContext
from phonebook.service.retry import retried
from phonebook.service.types import HOME_TYPE_ID
from phonebook.store import constituents as constituent_store
from phonebook.store import phone_numbers as store
from phonebook.store.phone_numbers import PhoneNumberRow
from phonebook.store.types import TypeRow


def get(ctx: ServiceContext, caller: Caller, number_id: int) -> PhoneNumberRow:
    found = store.read(ctx.database.fast, caller.account_id, number_id)
    if found is None:
        raise not_found(f"No phone number has id {number_id}.")
    return found


def page(
    ctx: ServiceContext, caller: Caller, constituent_id: int, wanted: Page
) -> tuple[list[PhoneNumberRow], int]:
    """One page of a constituent's numbers and how many it has in all."""
    account, fast = caller.account_id, ctx.database.fast
    rows, total = store.read_page(fast, account, constituent_id, wanted.limit, wanted.offset)
    # Numbers found prove the constituent is the account's; only none needs the check.
    if not total and not constituent_store.read_exists(fast, account, constituent_id):
        raise not_found(f"No constituent has id {constituent_id}.")
    return rows, total


@retried
def create(
    ctx: ServiceContext, caller: Caller, constituent_id: int, data: PhoneNumberInput
) -> PhoneNumberRow:
    values = new_number_values(ctx, data)
    with ctx.database.writing() as conn:
        if constituent_store.get(conn, caller.account_id, constituent_id, lock=True) is None:
            raise not_found(f"No constituent has id {constituent_id}.")
        return insert_in(conn, caller, constituent_id, values, utc_now())


def new_number_values(
    ctx: ServiceContext, data: PhoneNumberInput, prefix: str = ""
) -> dict[str, Any]:
    """The columns of a new number; a missing number or a bad type answers 422."""
    try:
        if data.number is None:
            raise invalid_field("number", "is required")
        chosen = ctx.types.resolve(data.type_id, data.type_name) or ctx.types.by_id(HOME_TYPE_ID)
        _check_number(data.number, chosen)
    except ApiError as exc:
        raise exc.prefixed(prefix) from None
    return {
        "number": data.number,
        "normalized_number": normalize(data.number),
        "phone_number_type_id": chosen.id,
        "is_preferred": bool(data.is_preferred),
        "not_current": bool(data.not_current),
    }


def insert_in(
    conn: Connection, caller: Caller, constituent_id: int, values: dict[str, Any], now: datetime
) -> PhoneNumberRow:
    """Insert a number inside the caller's transaction, keeping one preferred number."""
    if values["is_preferred"]:
        _clear_preferred(conn, caller, constituent_id, except_id=None, now=now)
    row = {**values, "constituent_id": constituent_id, "created_at": now, "updated_at": now}
    new_id = store.insert_number(conn, caller.account_id, row)
    # The row as stored, without reading it back: the database adds nothing but the id.
    created = PhoneNumberRow(id=new_id, **row)
    audit.record(
        conn, caller, audit.PHONE_NUMBER, audit.CREATE, before=None, after=created, now=now
    )
    return created


def _clear_preferred(
    conn: Connection, caller: Caller, constituent_id: int, except_id: int | None, now: datetime
) -> None:
    """Unset is_preferred on the constituent's other number: an update of its own."""
    for other in store.preferred(conn, constituent_id, except_id):
        cleared = other._replace(is_preferred=False, updated_at=now)
        store.update_number(conn, other.id, {"is_preferred": False, "updated_at": now})
        audit.record(
            conn, caller, audit.PHONE_NUMBER, audit.UPDATE, before=other, after=cleared, now=now
        )


@retried
def update(
    ctx: ServiceContext,
    caller: Caller,
    number_id: int,
    data: PhoneNumberInput,
    if_match: versions.IfMatch = None,
) -> PhoneNumberRow:
    """Apply a partial update; an update that changes nothing writes nothing."""
    account = caller.account_id
    with ctx.database.writing() as conn:
        current = store.get(conn, account, number_id, lock=True)
        if current is None:
            raise not_found(f"No phone number has id {number_id}.")
        if if_match is not None:  # the tag is a hash: not computed in the writers' turn for nothing
            versions.check(if_match, versions.number_etag(current))
        changes = _changes(ctx, current, data)
        if not changes:
            return current
        now = utc_now()
        if changes.get("is_preferred"):
            constituent_store.get(conn, account, current.constituent_id, lock=True)
            _clear_preferred(conn, caller, current.constituent_id, number_id, now)
        store.update_number(conn, number_id, {**changes, "updated_at": now})
        updated = current._replace(**changes, updated_at=now)
        audit.record(
            conn, caller, audit.PHONE_NUMBER, audit.UPDATE, before=current, after=updated, now=now
        )
    return updated


def _changes(
    ctx: ServiceContext, current: PhoneNumberRow, data: PhoneNumberInput
) -> dict[str, Any]:
    chosen = ctx.types.resolve(data.type_id, data.type_name) or ctx.types.by_id(
        current.phone_number_type_id
    )
    number = current.number if data.number is None else data.number
    _check_number(number, chosen)
    changes: dict[str, Any] = {}
    if number != current.number:
        changes["number"] = number
        changes["normalized_number"] = normalize(number)
    if chosen.id != current.phone_number_type_id:
        changes["phone_number_type_id"] = chosen.id
    if data.is_preferred is not None and data.is_preferred != current.is_preferred:
        changes["is_preferred"] = data.is_preferred
    if data.not_current is not None and data.not_current != current.not_current:
        changes["not_current"] = data.not_current
    return changes


def _check_number(number: str, chosen: TypeRow) -> None:
    try:
        check_number_for_type(number, chosen.code)
    except FieldError as exc:
        raise invalid_field("number", str(exc)) from None


@retried
def delete(
    ctx: ServiceContext, caller: Caller, number_id: int, if_match: versions.IfMatch = None
) -> None:
    with ctx.database.writing() as conn:
        current = store.delete_number(conn, caller.account_id, number_id)
        if current is None:
            raise not_found(f"No phone number has id {number_id}.")
        # A stale tag raises here, and the transaction undoes the delete.
        if if_match is not None:
            versions.check(if_match, versions.number_etag(current))
        audit.record(
            conn,
            caller,
            audit.PHONE_NUMBER,
            audit.DELETE,
            before=current,
            after=None,
            now=utc_now(),
        )


@retried
def restore(ctx: ServiceContext, caller: Caller, number_id: int) -> PhoneNumberRow:
    """Bring a deleted number back from the audit trail, with its id."""
    account = caller.account_id
    with ctx.database.writing() as conn:
        if store.get(conn, account, number_id) is not None:
            raise conflict(f"Phone number {number_id} is not deleted.")
        deleted = audit.last_deleted_number(conn, caller, number_id)
        if deleted is None:
            # Restored by another request since the check above (PostgreSQL reads
            # each statement's latest commit): that is a 409, as it would have been.
            if store.get(conn, account, number_id) is not None:
                raise conflict(f"Phone number {number_id} is not deleted.")
            raise not_found(f"No deleted phone number has id {number_id}.")
        owner = deleted.constituent_id
        if constituent_store.get(conn, account, owner, lock=True) is None:
            raise conflict(
                f"Constituent {owner}, which the number belonged to, is deleted: "
                "restore it first, and its numbers come back with it."
            )
        return restore_in(conn, caller, deleted, utc_now())


def restore_in(
    conn: Connection, caller: Caller, deleted: PhoneNumberRow, now: datetime
) -> PhoneNumberRow:
    """Insert a deleted number again, inside the caller's transaction.

    It comes back preferred only if it was and its constituent has no preferred
    number now: a choice made since the deletion stands.
    """
    preferred = deleted.is_preferred and not store.preferred(conn, deleted.constituent_id)
    restored = deleted._replace(is_preferred=preferred, updated_at=now)
    store.insert_number(conn, caller.account_id, restored._asdict())
    audit.record(
        conn, caller, audit.PHONE_NUMBER, audit.RESTORE, before=None, after=restored, now=now
    )
    return restored
