"""Phone number types (CONTRACT §3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from phonebook.api import shapes
from phonebook.api.requests import context_of, page_of, settings_of
from phonebook.api.responses import json_response
from phonebook.api.routing import resource
from phonebook.auth import authorize


async def list_types(request: Request) -> Response:
    """/types/phone_number_types"""
    await authorize(request)
    page = page_of(request)
    types = context_of(request).types.all
    chosen = types[page.offset : page.offset + page.limit]
    items = [shapes.phone_number_type(row) for row in chosen]
    public_url = settings_of(request).public_url
    return json_response(
        shapes.list_envelope(request, public_url, page, len(types), "phone_number_type", items)
    )


routes = [resource("/api/v1/types/phone_number_types", get=list_types)]
