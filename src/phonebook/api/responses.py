"""Rendering bodies to bytes: compact UTF-8 JSON, and the one error response."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

from phonebook.errors import ApiError

JSON_TYPE = "application/json"
# Phone numbers are personal data: no shared cache may keep an API answer.
_PRIVATE = {"Cache-Control": "no-store"}


def render(body: object) -> bytes:
    """Compact UTF-8 JSON; a lone surrogate echoed from a request stays a JSON escape."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(render(body), status, {**_PRIVATE, **(headers or {})}, JSON_TYPE)


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)
