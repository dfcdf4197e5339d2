"""The audit trail over HTTP: a number's or a constituent's history (beyond LGL, CONTRACT §8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from phonebook.api import shapes
from phonebook.api.requests import context_of, page_of, path_id, settings_of
from phonebook.api.responses import json_response
from phonebook.api.routing import resource
from phonebook.auth import authorize
from phonebook.rules.paging import Page
from phonebook.service import audit


def _page(request: Request, page: Page, found: tuple[list[audit.HistoryEvent], int]) -> Response:
    events, total = found
    types = context_of(request).types
    items = [shapes.history_event(event, types) for event in events]
    public_url = settings_of(request).public_url
    return json_response(
        shapes.list_envelope(request, public_url, page, total, "audit_event", items)
    )


async def number_history(request: Request) -> Response:
    caller = await authorize(request)
    page = page_of(request)
    found = audit.number_history(context_of(request), caller, path_id(request), page)
    return _page(request, page, found)


async def constituent_history(request: Request) -> Response:
    caller = await authorize(request)
    page = page_of(request)
    found = audit.constituent_history(context_of(request), caller, path_id(request), page)
    return _page(request, page, found)


routes = [
    resource("/api/v1/phone_numbers/{id:digits}/history", get=number_history),
    resource("/api/v1/constituents/{id:digits}/history", get=constituent_history),
]
