"""Builds the ASGI app: routes, and the one place every error becomes an LGL error body."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from phonebook import access_log
from phonebook.api import constituents, history, meta, phone_numbers, types
from phonebook.api.direct import DirectRoutes, PhonebookApp
from phonebook.api.responses import error_response
from phonebook.api.slow_reads import SlowReads
from phonebook.errors import ApiError, conflict
from phonebook.rate_limits import RateLimits
from phonebook.service.accounts import KeyCache
from phonebook.service.context import ServiceContext
from phonebook.settings import Settings, load_settings
from phonebook.store.database import Database
from phonebook.write_lane import lane_for

log = logging.getLogger("phonebook")


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing's own 404/405, in the LGL error body."""
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404:
        description = f"No route matches {request.url.path}."
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        description = f"{request.method} is not allowed here; allowed: {allowed}."
    else:
        description = phrase
    return error_response(ApiError(exc.status_code, phrase, description, headers=exc.headers))


async def _integrity_error(_request: Request, _exc: Exception) -> Response:
    """A constraint hit by a race the service could not see coming: retryable, not a 500."""
    return error_response(conflict("The change collided with a concurrent one; retry it."))


async def _busy(_request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", exc)
    error = ApiError(
        503,
        "Service Unavailable",
        "The database is busy or unreachable; retry shortly.",
        headers={"Retry-After": "1"},
    )
    return error_response(error)


async def _unexpected(_request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return error_response(
        ApiError(500, "Internal Server Error", "Something went wrong on our side.")
    )


def build_app(settings: Settings, database: Database | None = None) -> Starlette:
    """The app for settings; the database must already be migrated."""
    database = database or Database.from_settings(settings)
    # Requests only: migrations and CLI commands ran, or run, without a limit.
    database.limit_statements(settings.statement_timeout_ms)
    database.coordinate_writers()
    slow_reads = SlowReads(settings.read_threads)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        lane.close()
        slow_reads.close()
        database.dispose()

    app = PhonebookApp(
        routes=[
            *phone_numbers.routes,
            *constituents.routes,
            *history.routes,
            *types.routes,
            *meta.routes,
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            IntegrityError: _integrity_error,
            OperationalError: _busy,
            PoolTimeoutError: _busy,  # no connection free within the pool's timeout
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.answer_directly(DirectRoutes(phone_numbers.direct_routes))
    app.state.settings = settings
    app.state.ctx = ServiceContext.open(database)
    app.state.keys = KeyCache(settings.key_cache_seconds)
    lane = lane_for(database, settings.database_pool_size)
    app.state.write_lane = lane
    app.state.idempotency_in_flight = set()
    app.state.rate_limits = RateLimits(settings)
    app.state.slow_reads = slow_reads
    return app


def app_from_environment() -> Starlette:
    """The uvicorn factory each worker process of `serve --workers N` calls."""
    access_log.install()
    return build_app(load_settings())


def serve_app(app: Starlette, settings: Settings) -> None:
    """Serve app in this process until SIGTERM or Ctrl-C."""
    import uvicorn

    access_log.install()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
    )
