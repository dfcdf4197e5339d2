"""The five phone-number routes of the source document."""

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
from phonebook.auth import authorize
from phonebook.rules.fields import BodyErrors
from phonebook.rules.phone_number_input import PhoneNumberInput, read_phone_number
from phonebook.service import phone_numbers as service
from phonebook.service import versions
from phonebook.service.context import ServiceContext
from phonebook.store.phone_numbers import PhoneNumberRow


def _one(row: PhoneNumberRow, ctx: ServiceContext) -> Response:
    """A single number, with its ETag for If-Match."""
    etag = versions.number_etag(row)
    return json_response(shapes.phone_number(row, ctx.types), headers={"ETag": etag})


async def _read_input(request: Request) -> PhoneNumberInput:
    errors = BodyErrors()
    data = read_phone_number(await read_json_object(request), errors)
    errors.raise_if_any()
    return data


async def list_numbers(request: Request) -> Response:
    caller = await authorize(request)
    ctx, page = context_of(request), page_of(request)
    rows, total = service.page(ctx, caller, path_id(request, "constituent_id"), page)
    items = [shapes.phone_number_item(row, ctx.types) for row in rows]
    public_url = settings_of(request).public_url
    return json_response(
        shapes.list_envelope(request, public_url, page, total, "phone_number", items)
    )


async def create_number(request: Request) -> Response:
    caller = await authorize(request)
    data = await _read_input(request)
    ctx = context_of(request)
    constituent_id = path_id(request, "constituent_id")
    return await answer_once(
        request,
        caller,
        lambda: service.create(ctx, caller, constituent_id, data),
        lambda row: _one(row, ctx),
    )


async def show_number(request: Request) -> Response:
    caller = await authorize(request)
    ctx = context_of(request)
    return _one(service.get(ctx, caller, path_id(request)), ctx)


async def update_number(request: Request) -> Response:
    caller = await authorize(request)
    data = await _read_input(request)
    ctx = context_of(request)
    number_id, if_match = path_id(request), if_match_of(request)
    row = await run_write(request, service.update, ctx, caller, number_id, data, if_match)
    return _one(row, ctx)


async def delete_number(request: Request) -> Response:
    caller = await authorize(request)
    number_id, if_match = path_id(request), if_match_of(request)
    await run_write(request, service.delete, context_of(request), caller, number_id, if_match)
    return json_response(shapes.deleted())


async def restore_number(request: Request) -> Response:
    """Beyond LGL: a deleted number back from the audit trail, with its old id."""
    caller = await authorize(request)
    ctx, number_id = context_of(request), path_id(request)
    return await answer_once(
        request,
        caller,
        lambda: service.restore(ctx, caller, number_id),
        lambda row: _one(row, ctx),
    )


NUMBERS_OF_CONSTITUENT = "/api/v1/constituents/{constituent_id:digits}/phone_numbers"
NUMBER = "/api/v1/phone_numbers/{id:digits}"

# The hottest routes, which api.direct also answers ahead of Starlette's router.
direct_routes = {
    NUMBERS_OF_CONSTITUENT: {"get": list_numbers, "post": create_number},
    NUMBER: {"get": show_number, "patch": update_number, "delete": delete_number},
}

routes = [
    *(resource(path, **handlers) for path, handlers in direct_routes.items()),
    resource("/api/v1/phone_numbers/{id:digits}/restore", post=restore_number),
]
