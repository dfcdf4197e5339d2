"""Profile one kind of request through the ASGI app in-process, without a server.

    .venv/bin/python bench/profile_request.py bench-results/bench-10000.db /api/v1/phone_numbers/5

Prints microseconds per request, then cProfile's top functions. The database
must be seeded (make bench leaves bench-results/bench-10000.db); a fresh key is
made for ACCOUNT (default 1).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import MutableMapping
from typing import Any

from phonebook.app import build_app
from phonebook.service import accounts
from phonebook.settings import Settings
from phonebook.store.database import Database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="path of a seeded SQLite file")
    parser.add_argument("path", help="request path and query, e.g. /api/v1/phone_numbers/5")
    parser.add_argument("--account", type=int, default=1)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    parser.add_argument(
        "--rate-limit",
        default="1000000000/minute",
        help="per-key limit, as make bench sets it (on every request, never tripped); '' for none",
    )
    args = parser.parse_args()
    url = f"sqlite:///{args.database}"
    database = Database(url)
    key = accounts.create_key(database, args.account, read_only=False)
    app = build_app(Settings(database_url=url, rate_limit=args.rate_limit), database)
    path, _, query = args.path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {key}".encode()), (b"host", b"bench")],
        "scheme": "http",
        "server": ("bench", 80),
        "client": ("bench", 1),
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def many(count: int) -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    asyncio.run(many(200))
    started = time.perf_counter()
    asyncio.run(many(args.requests))
    per_request = (time.perf_counter() - started) / args.requests * 1e6
    print(f"{per_request:.1f} us per request; statuses {sorted(set(statuses))}")
    profile = cProfile.Profile()
    profile.runcall(asyncio.run, many(args.requests))
    pstats.Stats(profile).sort_stats(args.sort).print_stats(30)


if __name__ == "__main__":
    main()
