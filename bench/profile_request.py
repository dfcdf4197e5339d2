"""Profile one kind of request through the ASGI app in-process, without a server.

    .venv/bin/python bench/profile_request.py bench-results/bench-10000.db /api/v1/phone_numbers/5
    .venv/bin/python bench/profile_request.py bench-results/bench-10000.db \
        /api/v1/constituents/5/phone_numbers --method POST --body '{"number": "555-0100"}'

Prints microseconds per request, then cProfile's top functions. The database
must be seeded (make bench leaves bench-results/bench-10000.db); a fresh key is
made for ACCOUNT (default 1).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
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
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="", help="request body, e.g. JSON for POST or PATCH")
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
    body = args.body.encode()
    scope: dict[str, Any] = {
        "type": "http",
        "method": args.method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {key}".encode()),
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "scheme": "http",
        "server": ("bench", 80),
        "client": ("bench", 1),
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def many(count: int) -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    asyncio.run(many(200))
    started, cpu = time.perf_counter(), os.times()
    asyncio.run(many(args.requests))
    per_request = (time.perf_counter() - started) / args.requests * 1e6
    cpu_end = os.times()
    user = (cpu_end.user - cpu.user) / args.requests * 1e6
    system = (cpu_end.system - cpu.system) / args.requests * 1e6
    # CPU of every thread of the process (a write's lane thread too); a wait for fsync is none.
    print(
        f"{per_request:.1f} us per request; CPU {user:.1f} us user, {system:.1f} us system; "
        f"statuses {sorted(set(statuses))}"
    )
    profile = cProfile.Profile()
    profile.runcall(asyncio.run, many(args.requests))
    pstats.Stats(profile).sort_stats(args.sort).print_stats(30)


if __name__ == "__main__":
    main()
