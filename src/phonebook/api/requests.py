"""Reading what a request carries: its JSON body, path ids, list parameters."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar

import orjson
from starlette.requests import ClientDisconnect, Request

from phonebook.errors import ApiError, bad_request, not_found, request_timeout, too_large
from phonebook.rules.fields import MAX_ID
from phonebook.rules.paging import Page, read_page
from phonebook.service.context import ServiceContext
from phonebook.service.versions import IfMatch
from phonebook.settings import Settings
from phonebook.write_lane import WriteLane

T = TypeVar("T")

# orjson reads integers of 19 digits and more (past 64 bits) as floats.
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{19}")
# The deepest valid body is 3 levels (a constituent, its phone_numbers, a number).
MAX_JSON_DEPTH = 32


def context_of(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def run_write(request: Request, use_case: Callable[..., T], *args: Any) -> T:
    """use_case(*args) on the app's write lane."""
    lane: WriteLane = request.app.state.write_lane
    return await lane.run(use_case, *args)


def path_id(request: Request, name: str = "id") -> int:
    """A path id; anything but a storable positive integer names nothing: 404."""
    raw: str = request.path_params[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        raise not_found(f"No object has id {raw[:40]}.")
    return int(raw)


def if_match_of(request: Request) -> IfMatch:
    """The strong tags of If-Match; weak ones (W/"...") can never match, so they drop out."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    tags = (tag.strip() for tag in header.split(","))
    return frozenset(tag for tag in tags if tag == "*" or tag.startswith('"'))


def page_of(request: Request) -> Page:
    return read_page(request.query_params, settings_of(request).max_page_limit)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """raw as JSON, as the standard library reads it, NaN and Infinity refused.

    orjson reads what it can: 0.3 us for a PATCH's body against 8 us for
    json.loads given parse_constant (which builds a decoder per call). What it
    refuses, the standard library decides as before: invalid JSON, NaN,
    UTF-16 and UTF-32, lone surrogates, nesting past 1024. orjson would read
    an integer past 64 bits as a float, so a body with 19 digits in a row goes
    to the standard library too. tests/api/test_json_bodies.py holds the two
    readings equal.
    """
    if _LONG_DIGIT_RUN.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw, parse_constant=_reject_constant)


async def raw_body(request: Request) -> bytes:
    """The body's bytes, read once with the size limit and the time limit.

    Over the size limit: 413, before and while reading. Not all sent within
    body_timeout_seconds: 408, so a client trickling a body cannot hold a
    request open for ever.
    """
    cached: bytes | None = getattr(request.state, "raw_body", None)
    if cached is not None:
        return cached
    settings = settings_of(request)
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    seconds = settings.body_timeout_seconds
    try:
        async with asyncio.timeout(seconds if seconds > 0 else None):
            body = await _read_within(request, limit)
    except TimeoutError:
        raise request_timeout(seconds) from None
    request.state.raw_body = body
    return body


async def _read_within(request: Request, limit: int) -> bytes:
    # ASGI messages read directly: Request.stream()'s async generator cost about
    # a tenth of a POST's event-loop time for what is nearly always one message.
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, whatever its declared content type (CONTRACT §6).

    Over the size limit: 413, checked before and while reading, so a huge body
    is never held in memory; not sent in time: 408. Not JSON, nested deeper than
    MAX_JSON_DEPTH, or not an object: 400.
    """
    raw = await raw_body(request)
    try:
        data = parse_json(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    except RecursionError:  # far deeper than MAX_JSON_DEPTH: the parser ran out of stack
        raise _too_deep() from None
    # Counting brackets (strings included) is cheap and bounds the depth from above,
    # so only a body with many of them is walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _nests_deeper(data, MAX_JSON_DEPTH):
        raise _too_deep()
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data


def _too_deep() -> ApiError:
    return bad_request(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")


def _nests_deeper(value: object, limit: int) -> bool:
    """Whether value has arrays or objects more than limit deep (the outermost is level 1).

    The walk keeps a stack of its own, so no depth can exhaust Python's.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
