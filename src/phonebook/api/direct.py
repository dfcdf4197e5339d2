"""The hottest routes, dispatched without Starlette's middleware and router.

One number and a constituent's numbers (read, created, updated, deleted) are
most of what an LGL integration sends. Through Starlette each request passes
two middleware, a scan of the route table, a second Request and two exception
wrappers: measured in-process, that dispatch was a fifth of a GET of one
number. Here the path is matched by the route's own compiled pattern and the
same handler runs, its exceptions answered by the app's own handlers, so the
answer is the same byte for byte; every other request, and every method these
paths do not serve (405), goes through Starlette as before.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]  # all of build_app's are


class DirectRoutes:
    """Handlers by path template ("/api/v1/phone_numbers/{id:digits}") and method.

    HEAD is served by the GET handler, as Starlette's Route does.
    """

    def __init__(self, routes: Mapping[str, Mapping[str, Handler]]) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []
        for template, handlers in routes.items():
            pattern, _, convertors = compile_path(template)
            # Only text parameters, so the match's groups are the path params as-is.
            assert all(c.convert("1") == "1" for c in convertors.values()), template
            by_method = {method.upper(): handler for method, handler in handlers.items()}
            if "GET" in by_method:
                by_method["HEAD"] = by_method["GET"]
            self._routes.append((pattern, by_method))

    def find(self, scope: Scope) -> tuple[Handler, dict[str, Any]] | None:
        if scope.get("root_path"):
            return None
        path: str = scope["path"]
        for pattern, by_method in self._routes:
            found = pattern.match(path)
            if found is not None:
                handler = by_method.get(scope["method"])
                return None if handler is None else (handler, found.groupdict())
        return None


class PhonebookApp(Starlette):
    """Starlette, with DirectRoutes answered before its middleware."""

    direct: DirectRoutes | None = None

    def answer_directly(self, routes: DirectRoutes) -> None:
        """Answer routes ahead of Starlette: only while nothing sits between it and them."""
        skipped = self.user_middleware or self.debug or self.max_body_size is not None
        if skipped:
            raise ValueError("middleware, debug or a body limit would be skipped by direct routes")
        self.direct = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.direct.find(scope) if self.direct and scope["type"] == "http" else None
        if found is None:
            await super().__call__(scope, receive, send)
            return
        handler, scope["path_params"] = found
        scope["app"] = self
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:
            answer = self._handler_for(exc)
            await (await answer(request, exc))(scope, receive, send)
            if answer is self.exception_handlers.get(Exception):
                raise  # as Starlette's ServerErrorMiddleware does: the server logs it too
            return
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ErrorHandler:
        for cls in type(exc).__mro__:
            if cls in self.exception_handlers:
                handler: ErrorHandler = self.exception_handlers[cls]
                return handler
        raise exc  # build_app maps Exception itself, so this is never reached
