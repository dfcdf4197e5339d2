"""What a bench run works on: a fresh database, seeded, and the requests' targets and answers."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

PHONEBOOK = Path(sys.executable).parent / "phonebook"
LIST_SIZE = 25  # the list scenario reads constituents holding exactly 25 numbers
LIST_CONSTITUENTS = 200
TERMS = 200  # about this many lookup terms, spread over the numbers they come from


def phonebook(database: str, *args: str) -> list[str]:
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(PHONEBOOK), "--database", database, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.splitlines()


def fresh_database(backend: str, postgres_url: str, directory: Path, size: int) -> str:
    if backend == "sqlite":
        path = directory / f"bench-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"phonebook_bench_{size}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def seed(database: str, size: int) -> dict[str, Any]:
    """The bench account (size numbers over size/3 constituents) and the list account."""
    started = time.monotonic()
    phonebook(database, "migrate")
    lines = phonebook(
        database,
        "seed",
        "--constituents",
        str(max(1, size // 3)),
        "--numbers",
        str(size),
        "--account",
        "Bench",
    )
    seeded = time.monotonic() - started
    constituents, numbers = _ranges(lines[-2])
    list_lines = phonebook(
        database,
        "seed",
        "--constituents",
        str(LIST_CONSTITUENTS),
        "--numbers",
        str(LIST_CONSTITUENTS * LIST_SIZE),
        "--account",
        "Lists",
    )
    searched, updated = split_numbers(numbers)
    return {
        "key": phonebook(database, "keys", "create", lines[-1])[-1],
        "list_key": phonebook(database, "keys", "create", list_lines[-1])[-1],
        "constituents": constituents,
        "numbers": numbers,
        "searched_numbers": searched,
        "updated_numbers": updated,
        "list_constituents": _ranges(list_lines[-2])[0],
        "seed_seconds": round(seeded, 1),
    }


def _ranges(line: str) -> list[tuple[int, int]]:
    """The id ranges `phonebook seed` reports, as (first, last) pairs."""
    return [(int(low), int(high)) for low, high in re.findall(r"(\d+)\.\.(\d+)", line)]


def split_numbers(numbers: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The numbers lookup terms come from, and the numbers updates rewrite: apart.

    Updates give a number new digits, so a term taken from a number they may
    reach finds nothing once they have: at 10,000 numbers the update rows had
    rewritten most of them before the lookup rows ran, which then measured
    lookups that found nothing, and at 3,000,000 lookups that did.
    """
    low, high = numbers
    middle = max(low, (low + high) // 2)
    return (low, middle), (min(middle + 1, high), high)


def lookup_term(digits: str | None) -> str | None:
    """The last seven digits of a stored number: what a caller who knows the local number types.

    Until session 9 the terms were digits 3-9, mostly the area code and the
    exchange: at 3,000,000 numbers a term found 13 constituents on average
    (up to 56), at 10,000 numbers 1.13, so the lookup rows of the two sizes
    rendered unlike answers. The last seven found 1.93 and 1.00
    (docs/performance.md); at 3M a seven-digit piece does match other numbers.
    """
    return digits[-7:] if digits and len(digits) >= 9 else None


def sample_terms(base: str, data: dict[str, Any]) -> list[str]:
    """Lookup terms from stored numbers, spread over the numbers the update rows leave alone."""
    low, high = data["searched_numbers"]
    step = max(1, (high - low) // TERMS)
    terms: list[str] = []
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {data['key']}"}) as client:
        for number_id in range(low, high + 1, step):
            digits = client.get(f"/api/v1/phone_numbers/{number_id}").json()["normalized_number"]
            term = lookup_term(digits)
            if term is not None:
                terms.append(term)
    return terms


def capture_bodies(base: str, data: dict[str, Any], terms: list[str]) -> dict[str, str]:
    """Phonebook's answer to one request of each kind: what the floor will send back."""
    auth = {"Authorization": f"Bearer {data['key']}"}
    number, constituent = data["numbers"][0], data["constituents"][0]
    with httpx2.Client(base_url=base, headers=auth) as client:
        lists = {"Authorization": f"Bearer {data['list_key']}"}
        bodies = {
            "show": client.get(f"/api/v1/phone_numbers/{number}"),
            "list": client.get(
                f"/api/v1/constituents/{data['list_constituents'][0]}/phone_numbers", headers=lists
            ),
            "create": client.post(
                f"/api/v1/constituents/{constituent}/phone_numbers",
                json={"number": "(555) 0100-1234"},
            ),
            "update": client.patch(
                f"/api/v1/phone_numbers/{data['updated_numbers'][1]}",
                json={"number": "555-0210-1234"},
            ),
            "search": client.get(
                "/api/v1/constituents/search", params={"q[]": f"phone_number={terms[0]}"}
            ),
        }
    for name, response in bodies.items():
        if response.status_code != 200:
            raise SystemExit(f"{name}: Phonebook answered {response.status_code}: {response.text}")
    assert len(bodies["list"].json()["items"]) == LIST_SIZE
    # A term finds at least the number it was taken from.
    assert bodies["search"].json()["items"], f"the lookup of {terms[0]} found nothing"
    return {name: response.text for name, response in bodies.items()}
