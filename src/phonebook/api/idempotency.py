"""Answering a POST at most once per Idempotency-Key (CONTRACT §8)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from phonebook.api.requests import context_of, raw_body, run_write
from phonebook.api.responses import error_response, json_bytes_response
from phonebook.errors import ApiError, bad_request, conflict
from phonebook.service import idempotency
from phonebook.service.context import Caller

T = TypeVar("T")
MAX_KEY_LENGTH: Final = 255


def _key_of(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise bad_request(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            {"Idempotency-Key": ["must be 1 to 255 printable ASCII characters"]},
        )
    return key


async def answer_once(
    request: Request,
    caller: Caller,
    use_case: Callable[[], T],
    respond: Callable[[T], Response],
) -> Response:
    """respond(use_case()) on the write lane; with an Idempotency-Key, at most once."""
    key = _key_of(request)
    if key is None:
        return respond(await run_write(request, use_case))
    in_flight: set[tuple[int, str]] = request.app.state.idempotency_in_flight
    claim = (caller.account_id, key)
    if claim in in_flight:
        raise conflict("A request with this Idempotency-Key is still running; retry later.")
    first: list[Response] = []

    def attempt() -> tuple[int, str]:
        try:
            response = respond(use_case())
        except ApiError as exc:
            response = error_response(exc)
        first.append(response)
        return response.status_code, bytes(response.body).decode()

    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), await raw_body(request)])
    ).hexdigest()
    in_flight.add(claim)
    try:
        answer = await run_write(
            request, idempotency.answer_once, context_of(request), caller, key, fingerprint, attempt
        )
    finally:
        in_flight.discard(claim)
    if not answer.replayed and first:
        return first[-1]
    return json_bytes_response(answer.body.encode(), answer.status, {"Idempotent-Replayed": "true"})
