"""Routes about the service itself: health, the OpenAPI document, human docs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from phonebook import openapi
from phonebook.api.requests import context_of
from phonebook.api.responses import json_response
from phonebook.store.health import ping

_DOCS_PAGE = Path(__file__).resolve().parent.parent / "static" / "docs.html"


async def healthz(request: Request) -> Response:
    """200 when the database answers; 503 otherwise (for load balancers)."""
    try:
        ping(context_of(request).database)
    except SQLAlchemyError:
        return json_response({"status": "unavailable"}, 503, {"Retry-After": "1"})
    return json_response({"status": "ok"})


async def openapi_json(_request: Request) -> Response:
    return json_response(openapi.document())


async def docs(_request: Request) -> Response:
    """A page rendering /openapi.json with no asset from outside Phonebook."""
    return HTMLResponse(_DOCS_PAGE.read_text(encoding="utf-8"))


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
]
