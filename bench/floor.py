"""The floor: a bare ASGI app answering each benchmark request with Phonebook's own bytes.

It does no work at all: no routing beyond a glance at method and path, no
database, no JSON. Served by the same uvicorn, with the same worker count, it
measures what the server and the network cost, so Phonebook's figures can be
quoted as a share of it.
"""

from __future__ import annotations

import json
import os
from typing import Any

# Written by bench/run.py: {"show": "...", "list": "...", ...}, Phonebook's real answers.
with open(os.environ["PHONEBOOK_BENCH_FLOOR_BODIES"], encoding="utf-8") as file:
    BODIES = {name: body.encode() for name, body in json.load(file).items()}

HEADERS = {
    name: [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"content-length", str(len(body)).encode()),
    ]
    for name, body in BODIES.items()
}


def _kind(method: str, path: str) -> str:
    if method == "POST":
        return "create"
    if method == "PATCH":
        return "update"
    if path.endswith("/search"):
        return "search"
    if path.endswith("/phone_numbers"):
        return "list"
    return "show"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:  # read the body, as any real app must
        message = await receive()
        more = message.get("more_body", False)
    kind = _kind(scope["method"], scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS[kind]})
    await send({"type": "http.response.body", "body": BODIES[kind]})
