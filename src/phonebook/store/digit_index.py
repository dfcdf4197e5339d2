"""The reverse-lookup indexes' encodings, and the queries that find digits with them.

SQLite: digit trigrams are unselective: ten digits make only 1,000 of them, so at
3,000,000 numbers each one's posting list holds ~30,000 entries and a 7-digit
term read five of them (3.6 ms). The index (migration 0005) therefore also
holds each number's digits as pairs, one character per pair (100 symbols):
`even_pairs` from the first digit, `odd_pairs` from the second. A trigram of
pairs is six digits, one of a million; a term of six or more digits is looked
up by its pairs, in whichever column its alignment puts them, and its odd
last digit is checked on the row. Shorter terms use the `digits` column.

PostgreSQL: pg_trgm has the same weakness (a 7-digit LIKE took 7.8-8.6 ms at
3M numbers), so migration 0005 also indexes each number's 6-digit windows as
an integer array (GIN, `phone_digit_windows(normalized_number)`); a term of
six or more digits must have all of its windows there, and the row is checked.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection

from phonebook.store import direct

PAIR_BASE: Final = 0x4E00  # CJK ideographs: no case folding, nothing a digit can be
PAIRS_FROM: Final = 6  # digits: three pairs (the shortest phrase FTS5 serves); one window
TRIGRAM: Final = 3  # shorter terms cannot use the index at all
# Pages of segments one background merge step writes: ~5 ms in the writers' turn at 3M.
MERGE_PAGES: Final = 100
# SQLite: the notes the lookup index's triggers take (migration 0007), and their use.
PENDING: Final = "phone_numbers_digits_pending"  # numbers the index lacks
# Notes gathered before a commit applies them. Each application has a fixed cost
# (FTS5 writes a segment), so under a stream of small write groups it waits for
# this many; meanwhile every lookup also checks up to this many pending numbers.
NOTES_PER_APPLY = 128
# A bare count(*) counts a table's cells page by page (OP_Count), without stepping
# rows: 3 us against 27 us for counting each table up to a LIMIT (with 64 notes of
# each kind, on the slow machine of session 8). The notes never outgrow a few
# pages: every commit that finds enough of them applies them all.
_ENOUGH_NOTES = (
    "SELECT (SELECT count(*) FROM phone_numbers_digits_pending) "
    "+ (SELECT count(*) FROM phone_numbers_digits_forget) >= ?1"
)
_APPLY_NOTES = (
    # Forgetting first: a number changed or restored takes its new digits after.
    "INSERT INTO phone_numbers_digits(phone_numbers_digits, rowid, digits, even_pairs, "
    "odd_pairs) SELECT * FROM phone_numbers_digits_forgotten",
    "DELETE FROM phone_numbers_digits_forget",
    "INSERT INTO phone_numbers_digits(rowid, digits, even_pairs, odd_pairs) "
    "SELECT * FROM phone_numbers_digits_unindexed",
    f"DELETE FROM {PENDING}",  # noqa: S608 - a constant
)
_HAS_NOTES = "SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?"


def pairs(digits: str) -> str:
    """digits two at a time, one character per pair; an odd last digit is left out."""
    return "".join(chr(PAIR_BASE + int(digits[i : i + 2])) for i in range(0, len(digits) - 1, 2))


def match_query(digits: str) -> str:
    """The FTS5 query for numbers containing digits (TRIGRAM or more ASCII digits).

    At six digits and more: the pairs of the term from its first digit, and
    from its second, each in either column. Wherever the term sits in a
    number, one of the two runs of pairs lines up with even_pairs and the
    other with odd_pairs, so no match is missed; a candidate may lack an odd
    last digit, so the caller checks the digits on the row.
    """
    if len(digits) < PAIRS_FROM:
        return f'digits : "{digits}"'
    phrases = [pairs(digits)]
    if len(digits) > PAIRS_FROM:
        phrases.append(pairs(digits[1:]))
    return " AND ".join(f'{{even_pairs odd_pairs}} : "{phrase}"' for phrase in phrases)


def windows(digits: str) -> list[int]:
    """The term's 6-digit windows as integers, for PostgreSQL (PAIRS_FROM or more digits).

    Every window is six digits long, so its value alone names it ("012345" is 12345).
    """
    return sorted({int(digits[i : i + PAIRS_FROM]) for i in range(len(digits) - PAIRS_FROM + 1)})


def by_pairs(digits: str) -> bool:
    """Whether a term is looked up by its pairs (SQLite) or windows (PostgreSQL)."""
    return len(digits) >= PAIRS_FROM


def merge_step(conn: Connection) -> bool:
    """SQLite: merge up to MERGE_PAGES pages of the index's segments; whether any were merged.

    Merges levels that hold two segments or more (migration 0006). FTS5 counts
    two changes or more for a step that did work (its documentation's test).
    """
    dbapi = conn.connection.dbapi_connection
    before: int = dbapi.total_changes  # type: ignore[union-attr]
    conn.exec_driver_sql(
        "INSERT INTO phone_numbers_digits(phone_numbers_digits, rank) VALUES ('merge', ?)",
        (MERGE_PAGES,),
    )
    return bool(dbapi.total_changes - before >= 2)  # type: ignore[union-attr]


def apply_notes(conn: Connection, at_least: int | None = None) -> bool:
    """SQLite: make the index forget and take what writes noted; whether it did.

    Database.writing() calls it before each commit: once NOTES_PER_APPLY (or
    at_least) notes have gathered, the index takes them all. The served app's
    upkeep applies the rest once writes pause. Schemas before migration 0007
    have no notes.
    """
    wanted = NOTES_PER_APPLY if at_least is None else at_least
    cursor = conn.connection.cursor()
    statement = _HAS_NOTES
    try:
        if cursor.execute(statement, ("phone_numbers_digits_unindexed",)).fetchone() is None:
            return False
        statement = _ENOUGH_NOTES
        if not cursor.execute(statement, (wanted,)).fetchone()[0]:
            return False
        for statement in _APPLY_NOTES:
            cursor.execute(statement)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise direct.driver_error(conn, statement, None, exc) from exc
    finally:
        cursor.close()
    return True
