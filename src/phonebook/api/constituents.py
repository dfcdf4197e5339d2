"""Constituents: list, create, show, update, delete, and the reverse lookup."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from phonebook.api import shapes
from phonebook.api.idempotency import answer_once
from phonebook.api.requests import (
    context_of,
    if_match_of,
    page_of,
    path_id,
    read_json_object,
    run_write,
    settings_of,
)
from phonebook.api.responses import json_response
from phonebook.api.routing import resource
from phonebook.api.slow_reads import SlowReads
from phonebook.auth import authorize
from phonebook.errors import bad_request
from phonebook.rules.constituent_input import read_constituent
from phonebook.rules.search_terms import SearchTerms, read_terms
from phonebook.service import constituents as service
from phonebook.service import versions
from phonebook.service.constituents import ConstituentView
from phonebook.service.context import ServiceContext

EXPANDABLE = ("phone_numbers",)


def _expand(request: Request) -> bool:
    """expand=phone_numbers embeds each constituent's numbers in a list."""
    wanted = {
        part.strip()
        for value in request.query_params.getlist("expand")
        for part in value.split(",")
        if part.strip()
    }
    unknown = wanted - set(EXPANDABLE)
    if unknown:
        raise bad_request(
            f"Cannot expand {', '.join(sorted(unknown))}; expandable: {', '.join(EXPANDABLE)}.",
            {"expand": ["expandable: phone_numbers"]},
        )
    return "phone_numbers" in wanted


async def _list(request: Request, terms: SearchTerms) -> Response:
    caller = await authorize(request)
    ctx, page, expand = context_of(request), page_of(request), _expand(request)
    if terms.is_empty():
        views, total = service.page(ctx, caller, terms, page, expand=expand)
    else:  # a lookup may take milliseconds on a large account
        slow_reads: SlowReads = request.app.state.slow_reads
        kind = (caller.account_id, terms.shape())
        views, total = await slow_reads.run(
            kind, lambda: service.page(ctx, caller, terms, page, expand=expand)
        )
    items = [shapes.constituent_item(view, ctx.types) for view in views]
    public_url = settings_of(request).public_url
    return json_response(
        shapes.list_envelope(request, public_url, page, total, "constituent", items)
    )


async def list_constituents(request: Request) -> Response:
    return await _list(request, SearchTerms())


def _one(view: ConstituentView, ctx: ServiceContext) -> Response:
    """A single constituent, with its ETag for If-Match."""
    etag = versions.constituent_etag(view)
    return json_response(shapes.constituent(view, ctx.types), headers={"ETag": etag})


async def create_constituent(request: Request) -> Response:
    caller = await authorize(request)
    data = read_constituent(await read_json_object(request), creating=True)
    ctx = context_of(request)
    return await answer_once(
        request, caller, lambda: service.create(ctx, caller, data), lambda view: _one(view, ctx)
    )


async def search_constituents(request: Request) -> Response:
    """/constituents/search?q[]=phone_number=TERM (CONTRACT §7)"""
    return await _list(request, read_terms(request.query_params.getlist("q[]")))


async def show_constituent(request: Request) -> Response:
    caller = await authorize(request)
    ctx = context_of(request)
    return _one(service.get(ctx, caller, path_id(request)), ctx)


async def update_constituent(request: Request) -> Response:
    caller = await authorize(request)
    data = read_constituent(await read_json_object(request), creating=False)
    ctx = context_of(request)
    constituent_id, if_match = path_id(request), if_match_of(request)
    view = await run_write(request, service.update, ctx, caller, constituent_id, data, if_match)
    return _one(view, ctx)


async def delete_constituent(request: Request) -> Response:
    caller = await authorize(request)
    constituent_id, if_match = path_id(request), if_match_of(request)
    ctx = context_of(request)
    await run_write(request, service.delete, ctx, caller, constituent_id, if_match)
    return json_response(shapes.deleted())


async def restore_constituent(request: Request) -> Response:
    """Beyond LGL: a deleted constituent and its numbers back from the audit trail."""
    caller = await authorize(request)
    ctx, constituent_id = context_of(request), path_id(request)
    return await answer_once(
        request,
        caller,
        lambda: service.restore(ctx, caller, constituent_id),
        lambda view: _one(view, ctx),
    )


routes = [
    resource("/api/v1/constituents", get=list_constituents, post=create_constituent),
    resource("/api/v1/constituents/search", get=search_constituents),
    resource(
        "/api/v1/constituents/{id:digits}",
        get=show_constituent,
        patch=update_constituent,
        delete=delete_constituent,
    ),
    resource("/api/v1/constituents/{id:digits}/restore", post=restore_constituent),
]
