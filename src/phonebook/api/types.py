"""Phone number types (CONTRACT §3)."""

from __future__ import annotations

from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phonebook.api import shapes
from phonebook.api.requests import context_of, page_of, settings_of
from phonebook.api.responses import json_response
from phonebook.auth import authorize


class PhoneNumberTypes(HTTPEndpoint):
    """/types/phone_number_types"""

    async def get(self, request: Request) -> Response:
        authorize(request)
        page = page_of(request)
        types = context_of(request).types.all
        chosen = types[page.offset : page.offset + page.limit]
        items = [shapes.phone_number_type(row) for row in chosen]
        public_url = settings_of(request).public_url
        return json_response(
            shapes.list_envelope(request, public_url, page, len(types), "phone_number_type", items)
        )


routes = [Route("/api/v1/types/phone_number_types", PhoneNumberTypes)]
