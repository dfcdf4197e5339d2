"""Rendering bodies to bytes: compact UTF-8 JSON, and the one error response."""

from __future__ import annotations

import json
from collections.abc import Mapping

import orjson
from starlette.responses import Response

from phonebook.errors import ApiError

JSON_TYPE = "application/json"
# Phone numbers are personal data: no shared cache may keep an API answer.
_PRIVATE = {"Cache-Control": "no-store"}


def render(body: object) -> bytes:
    """Compact UTF-8 JSON, keys in insertion order.

    orjson: a 25-item list renders in a tenth of json.dumps's time. It refuses
    lone surrogates, which only an error echoing a client's key can carry; the
    standard library renders those as JSON escapes.
    """
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(render(body), status, {**_PRIVATE, **(headers or {})}, JSON_TYPE)


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)
