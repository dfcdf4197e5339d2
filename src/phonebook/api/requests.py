"""Reading what a request carries: its JSON body, path ids, list parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from starlette.requests import Request

from phonebook.errors import bad_request, not_found, too_large
from phonebook.rules.fields import MAX_ID
from phonebook.rules.paging import Page, read_page
from phonebook.service.context import ServiceContext
from phonebook.service.versions import IfMatch
from phonebook.settings import Settings
from phonebook.write_lane import WriteLane

T = TypeVar("T")


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


async def raw_body(request: Request) -> bytes:
    """The body's bytes, read once with the size limit; 413 before and while reading."""
    cached: bytes | None = getattr(request.state, "raw_body", None)
    if cached is not None:
        return cached
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.raw_body = body
    return body


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, whatever its declared content type (CONTRACT §6).

    Over the size limit: 413, checked before and while reading, so a huge body
    is never held in memory. Not JSON, or not an object: 400.
    """
    raw = await raw_body(request)
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data
