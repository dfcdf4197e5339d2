"""Constituent rows and the reverse lookup; every query is scoped to an account."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from phonebook.rules.search_terms import SearchTerms
from phonebook.store import direct
from phonebook.store.database import inserted_id
from phonebook.store.digit_index import PENDING, TRIGRAM, by_pairs, match_query, windows
from phonebook.store.fast_reads import DIALECTS, FastReads, ids_parameter, in_ids, paged
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
    found = direct.rows(conn, query, {"id": constituent_id, "account_id": account_id})
    return ConstituentRow._make(found[0]) if found else None


_EXISTS = select(t.c.id).where(t.c.id == bindparam("id"), t.c.account_id == bindparam("account_id"))


def read_exists(fast: FastReads, account_id: int, constituent_id: int) -> bool:
    """Whether the account has this constituent, on the hot path."""
    return bool(fast.rows(_EXISTS, {"id": constituent_id, "account_id": account_id}))


# SQLite's lookup index over normalized_number (migrations 0002 and 0005); not in
# the metadata, since it is an FTS5 virtual table Alembic cannot compare.
_digits_index = table("phone_numbers_digits", column("rowid"), column("phone_numbers_digits"))
# Numbers the index does not hold yet (migration 0007): written by another tool
# since the app last wrote, or earlier in a transaction still open.
_pending = table(PENDING, column("id"))


def _has_number_containing(dialect: str, account_id: int, digits: str) -> ColumnElement[bool]:
    """Constituents having a number whose normalized_number contains digits."""
    numbers = phone_numbers.c
    if len(digits) < TRIGRAM:
        return exists().where(
            numbers.constituent_id == t.c.id,
            numbers.normalized_number.contains(digits, autoescape=True),
        )
    lookup = _Lookup(digits, match_query(digits), literal(windows(digits), _WINDOWS))
    return _indexed_owners(dialect, account_id, lookup, by_pairs(digits))


class _Lookup(NamedTuple):
    """A term's parameters for the index: values, or bound parameters of these names."""

    digits: Any
    match: Any  # SQLite: the FTS5 query (digit_index.match_query)
    windows: Any  # PostgreSQL: the term's 6-digit windows (digit_index.windows)


_WINDOWS = ARRAY(Integer)


def _indexed_owners(dialect: str, account: Any, lookup: _Lookup, long: bool) -> ColumnElement[bool]:
    """t.id among the account's constituents with a number containing digits, by index."""
    return t.c.id.in_(_owners(account, _indexed_match(dialect, lookup, long)))


def _owners(account: Any, found: ColumnElement[bool]) -> Select[Any]:
    """The constituent ids of the account's numbers for which found holds."""
    numbers = phone_numbers.c
    return select(numbers.constituent_id).where(numbers.account_id == account, found)


def _indexed_match(dialect: str, lookup: _Lookup, long: bool) -> ColumnElement[bool]:
    """A number contains the lookup's digits, found by index.

    SQLite: the FTS5 index finds candidate numbers and each is checked for the
    digits (a term looked up by its pairs may lack its odd last digit).
    PostgreSQL: a long term (6 digits or more) by its windows' GIN index, and
    checked likewise; a shorter one by pg_trgm's index, which serves the LIKE
    itself. Digits are digits only, so LIKE needs no escaping.
    """
    numbers = phone_numbers.c
    # Literal 0s: the hot path binds only the parameters it names.
    found: ColumnElement[bool]
    if dialect == "sqlite":
        matching = union_all(
            select(_digits_index.c.rowid).where(
                _digits_index.c.phone_numbers_digits.op("MATCH")(lookup.match)
            ),
            select(_pending.c.id),
        )
        contains = func.instr(numbers.normalized_number, lookup.digits) > literal_column("0")
        found = and_(numbers.id.in_(matching), contains)
    elif long:
        stored = func.phone_digit_windows(numbers.normalized_number, type_=_WINDOWS)
        # strpos, not LIKE: the planner would add pg_trgm's scan, the cost this avoids.
        contains = func.strpos(numbers.normalized_number, lookup.digits) > literal_column("0")
        found = and_(stored.bool_op("@>")(lookup.windows), contains)
    else:
        found = numbers.normalized_number.contains(lookup.digits)
    return found


def _conditions(dialect: str, account_id: int, terms: SearchTerms) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [t.c.account_id == account_id]
    for digits in terms.phone_digits:
        conditions.append(_has_number_containing(dialect, account_id, digits))
    for name in terms.names:
        needle = name.lower()
        conditions.append(
            or_(*(func.lower(c).contains(needle, autoescape=True) for c in _NAME_COLUMNS))
        )
    conditions.extend(t.c.external_constituent_id == ext for ext in terms.external_ids)
    return conditions


def search_query(
    dialect: str, account_id: int, terms: SearchTerms, limit: int, offset: int
) -> Select[Any]:
    """One page of the account's constituents matching every term, by id."""
    query = select(*_COLUMNS).where(and_(*_conditions(dialect, account_id, terms)))
    return paged(query.order_by(t.c.id), limit, offset)


def search(
    conn: Connection, account_id: int, terms: SearchTerms, limit: int, offset: int
) -> list[ConstituentRow]:
    query = search_query(conn.dialect.name, account_id, terms, limit, offset)
    return [ConstituentRow._make(row) for row in conn.execute(query)]


def count(conn: Connection, account_id: int, terms: SearchTerms) -> int:
    conditions = _conditions(conn.dialect.name, account_id, terms)
    query = select(func.count()).where(and_(*conditions))
    return int(conn.execute(query).scalar_one())


def _phone_owner_ids(dialect: str, long: bool) -> Select[Any]:
    """The ids of the account's constituents having a number that contains :digits, in order.

    On PostgreSQL from the numbers alone: a number's (constituent_id,
    account_id) is a foreign key to its constituent, so the join to
    constituents checked nothing. PostgreSQL plans this statement at every
    call (its generic plan guesses 15,000 rows for any term, so it keeps
    custom plans), and with the join planning took 0.18-0.31 ms against
    0.05-0.08 ms to run; without it 0.04-0.09 ms and 0.02-0.03 ms, at 3M
    numbers (docs/performance.md). SQLite prepares it once: its form stays.
    """
    account: BindParameter[int] = bindparam("account_id")
    lookup = _Lookup(bindparam("digits"), bindparam("match"), bindparam("windows", type_=_WINDOWS))
    if dialect == "postgresql":
        owner = phone_numbers.c.constituent_id
        found = _indexed_match(dialect, lookup, long)
        return _owners(account, found).distinct().order_by(owner)
    owners = _indexed_owners(dialect, account, lookup, long)
    return select(t.c.id).where(t.c.account_id == account, owners).order_by(t.c.id)


# The reverse lookup's usual form, one phone term and nothing else, built once per
# dialect and term length for the hot path: building it per request cost ~400 us
# of a 450 us lookup.
_PHONE_OWNER_IDS = {
    (dialect, long): _phone_owner_ids(dialect, long)
    for dialect in DIALECTS
    for long in (False, True)
}
_BY_IDS = {
    dialect: select(*_COLUMNS)
    .where(t.c.account_id == bindparam("account_id"), in_ids(t.c.id, dialect))
    .order_by(t.c.id)
    for dialect in DIALECTS
}


def is_phone_lookup(terms: SearchTerms) -> bool:
    """Whether terms are a single phone term an index serves, and nothing else."""
    digits, others = terms.phone_digits, (*terms.names, *terms.external_ids)
    return len(digits) == 1 and len(digits[0]) >= TRIGRAM and not others


def read_phone_lookup(
    fast: FastReads, account_id: int, digits: str, limit: int, offset: int
) -> tuple[list[ConstituentRow], int]:
    """search_page for is_phone_lookup terms, on the hot path."""
    dialect, long = fast.engine.dialect.name, by_pairs(digits)
    params: dict[str, Any] = {"account_id": account_id, "digits": digits}
    if dialect == "sqlite":
        params["match"] = match_query(digits)
    elif long:
        params["windows"] = windows(digits)
    ids = [row[0] for row in fast.rows(_PHONE_OWNER_IDS[dialect, long], params)]
    page = ids[offset : offset + limit]
    if not page:
        return [], len(ids)
    found = fast.rows(_BY_IDS[dialect], {"account_id": account_id, **ids_parameter(dialect, page)})
    return [ConstituentRow._make(row) for row in found], len(ids)


def search_page(
    conn: Connection, account_id: int, terms: SearchTerms, limit: int, offset: int
) -> tuple[list[ConstituentRow], int]:
    """A page of matches and their total.

    With a phone term the index is consulted once: the matching ids come back
    in order, the total is their number and the page is a slice, where a page
    query plus a count would consult it twice (each a few ms at 3M numbers).
    """
    if not terms.phone_digits:
        return search(conn, account_id, terms, limit, offset), count(conn, account_id, terms)
    conditions = _conditions(conn.dialect.name, account_id, terms)
    ids = list(conn.execute(select(t.c.id).where(and_(*conditions)).order_by(t.c.id)).scalars())
    chosen = ids[offset : offset + limit]
    if not chosen:
        return [], len(ids)
    query = select(*_COLUMNS).where(t.c.id.in_(chosen)).order_by(t.c.id)
    return [ConstituentRow._make(row) for row in conn.execute(query)], len(ids)


def insert_constituent(conn: Connection, account_id: int, values: Mapping[str, Any]) -> int:
    return inserted_id(conn.execute(_INSERT, {"account_id": account_id, **values}))


def update_constituent(conn: Connection, constituent_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(_UPDATE, {"b_id": constituent_id, **values})


def delete_constituent(conn: Connection, account_id: int, constituent_id: int) -> bool:
    result = conn.execute(delete(t).where(t.c.id == constituent_id, t.c.account_id == account_id))
    return result.rowcount > 0
