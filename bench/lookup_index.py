"""Time the reverse lookup's hot-path query on a seeded file, by term length.

    .venv/bin/python bench/lookup_index.py bench-results/bench-3000000.db

Terms are pieces of stored numbers (as bench/run.py's search scenario uses):
7 digits from the third digit, and the last 4 digits. Prints microseconds per
lookup (ids, total and the first page of 25) and the matches found on average.
"""

from __future__ import annotations

import argparse
import time

from phonebook.store.constituents import read_phone_lookup
from phonebook.store.database import Database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="path of a seeded SQLite file")
    parser.add_argument("--account", type=int, default=1)
    parser.add_argument("--terms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="the best round is printed")
    args = parser.parse_args()
    database = Database(f"sqlite:///{args.database}")
    with database.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT normalized_number FROM phone_numbers "
            "WHERE account_id = ? AND length(normalized_number) >= 9 "
            "ORDER BY id LIMIT ? OFFSET 0",
            (args.account, args.terms * 50),
        ).scalars()
        numbers = list(stored)[::50]
    for label, terms in (
        ("7 digits", [digits[2:9] for digits in numbers]),
        ("last 4", [digits[-4:] for digits in numbers]),
    ):
        best, found = float("inf"), 0
        for _ in range(args.rounds):
            started, found = time.perf_counter(), 0
            for term in terms:
                found += read_phone_lookup(database.fast, args.account, term, 25, 0)[1]
            best = min(best, (time.perf_counter() - started) / len(terms))
        print(f"{label:9} {best * 1e6:9.1f} us per lookup, {found / len(terms):8.1f} matches")
    database.dispose()


if __name__ == "__main__":
    main()
