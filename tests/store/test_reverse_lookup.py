"""The reverse lookup is served by an index on both backends, and the index stays in step."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from phonebook.rules.search_terms import SearchTerms
from phonebook.service import maintenance
from phonebook.service.seed import seed
from phonebook.store import digit_index
from phonebook.store.constituents import _PHONE_OWNER_IDS, search_query
from phonebook.store.database import Database
from phonebook.store.digit_index import by_pairs, match_query, windows
from tests.conftest import Api


def _plan(conn: Connection, account_id: int, digits: str) -> str:
    query = search_query(conn.dialect.name, account_id, SearchTerms(phone_digits=[digits]), 25, 0)
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN" if conn.dialect.name == "sqlite" else "EXPLAIN"
    return "\n".join(str(row[-1]) for row in conn.exec_driver_sql(f"{explain} {sql}"))


# A term of six digits or more has an index of its own on each backend (digit pairs,
# 6-digit windows); shorter ones use the digit trigrams (migration 0002).
TERMS = {
    "5550044": "ix_phone_numbers_digit_windows",
    "0044": "ix_phone_numbers_normalized_number_trgm",
}


@pytest.mark.parametrize("digits", TERMS)
def test_a_digit_term_is_served_by_an_index(database: Database, digits: str) -> None:
    """With enough rows for the planner to care (20,000 seeded numbers), no table scan."""
    seeded = seed(database, "Plan", constituents=5_000, numbers=20_000)
    with database.reading() as conn:
        _assert_indexed(database, _plan(conn, seeded.account_id, digits), TERMS[digits])


def _assert_indexed(database: Database, plan: str, postgresql_index: str) -> None:
    if database.is_sqlite:
        assert "VIRTUAL TABLE INDEX" in plan, plan
        assert "SCAN phone_numbers" not in plan.replace("SCAN phone_numbers_digits", ""), plan
    else:
        assert postgresql_index in plan, plan
        assert "Seq Scan on phone_numbers" not in plan, plan


_PARAMETER_TYPES = {"account_id": "bigint", "digits": "text", "windows": "integer[]"}


def _prepared_plan(conn: Connection, account_id: int, digits: str) -> str:
    """The plan of the hot path's prepared lookup, with its parameters left unknown."""
    long = by_pairs(digits)
    compiled = _PHONE_OWNER_IDS[conn.dialect.name, long].compile(conn)
    sql = str(compiled)
    values = {"account_id": account_id, "digits": digits, "match": match_query(digits)}
    if conn.dialect.name == "sqlite":
        params = tuple(values[name] for name in compiled.positiontup or ())
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in rows)
    # A generic plan is what a statement prepared by the driver may settle on.
    names = [name for name in _PARAMETER_TYPES if f"%({name})s" in sql]
    for number, name in enumerate(names, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    arguments = {"account_id": str(int(account_id)), "digits": f"'{digits}'"}
    arguments["windows"] = f"'{{{','.join(map(str, windows(digits)))}}}'"
    cursor = conn.connection.cursor()  # without parameters, so % is no placeholder
    cursor.execute("SET plan_cache_mode = force_generic_plan")
    types = ", ".join(_PARAMETER_TYPES[name] for name in names)
    cursor.execute(f"PREPARE lookup({types}) AS {sql.replace('%%', '%')}")
    cursor.execute(f"EXPLAIN EXECUTE lookup({', '.join(arguments[name] for name in names)})")
    return "\n".join(str(row[0]) for row in cursor.fetchall())


@pytest.mark.parametrize("digits", TERMS)
def test_the_prepared_lookup_is_served_by_an_index(database: Database, digits: str) -> None:
    """The hot path's statement, built once with bound parameters, uses the index too."""
    seeded = seed(database, "Plan", constituents=5_000, numbers=20_000)
    with database.reading() as conn:
        plan = _prepared_plan(conn, seeded.account_id, digits)
        _assert_indexed(database, plan, TERMS[digits])


@pytest.mark.sqlite_only
def test_optimize_merges_the_segments_small_writes_leave(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each small write adds an FTS5 segment until automerge; optimize folds them into one."""
    monkeypatch.setattr(digit_index, "NOTES_PER_APPLY", 1)  # a segment per write
    cid = api.constituent()
    for n in range(40):
        api.number(cid, number=f"(888) 555-{n:04d}")

    def segments() -> int:
        with database.reading() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM phone_numbers_digits_data")
            return int(rows.scalar_one())

    before = segments()
    maintenance.optimize(database)
    assert segments() < before
    assert _found(api, "5550017") == [cid]


@pytest.mark.sqlite_only
def test_optimize_keeps_row_counts_but_no_stat4_samples(api: Api, database: Database) -> None:
    """Samples would make SQLite re-prepare FTS5's statements on every lookup."""
    cid = api.constituent()
    for n in range(30):
        api.number(cid, number=f"(888) 555-{n:04d}")
    maintenance.optimize(database)
    with database.reading() as conn:
        stat1 = conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar_one()
        has_stat4 = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat4'"
        ).scalar_one()
        samples = (
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat4").scalar_one()
            if has_stat4
            else 0
        )
    assert stat1 > 0
    assert samples == 0
    assert _found(api, "5550017") == [cid]


def _found(api: Api, digits: str) -> list[int]:
    body = api.get("/api/v1/constituents/search", params={"q[]": f"phone_number={digits}"}).json()
    return [c["id"] for c in body["items"]]


def test_the_index_follows_updates_and_deletes(api: Api) -> None:
    cid = api.constituent()
    number = api.number(cid, number="(888) 555-0044")
    assert _found(api, "5550044") == [cid]
    api.patch(f"/api/v1/phone_numbers/{number['id']}", {"number": "(888) 777-1234"})
    assert _found(api, "5550044") == []
    assert _found(api, "7771234") == [cid]
    api.delete(f"/api/v1/phone_numbers/{number['id']}")
    assert _found(api, "7771234") == []


def test_the_index_follows_a_constituent_delete(api: Api) -> None:
    cid = api.constituent()
    api.number(cid, number="(888) 555-0044")
    other = api.constituent()
    api.number(other, number="(999) 555-0044")
    api.delete(f"/api/v1/constituents/{cid}")
    assert _found(api, "5550044") == [other]


@pytest.mark.parametrize("digits", ["5", "55", "555", "8885550044"])
def test_short_and_long_terms_agree_with_a_plain_scan(api: Api, digits: str) -> None:
    people = {}
    for number in ("(888) 555-0044", "555-1234", "+44 20 7946 0958", "handle"):
        cid = api.constituent()
        api.number(cid, number=number, phone_type_name="Skype" if number == "handle" else None)
        people[cid] = number
    expected = [
        cid for cid, number in people.items() if digits in "".join(filter(str.isdigit, number))
    ]
    assert _found(api, digits) == expected
