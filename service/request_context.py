"""Each request's context: its id, what served it, one access log line and its metrics.

`RequestContextMiddleware` (pure ASGI, so it adds microseconds, not a task per request) accepts a caller's
`X-Request-ID` when it is short and made of safe characters, or makes one; puts it in `request.state.request_id`
(problem bodies carry it), in the response header and in every log line of the request; and, when the response
is done, logs one access line (method, route template, status, latency, cached, engine) and counts the request
in the app's metrics by route template, never by raw path.

Domain code notes what served a request with `note_result(engine=..., cached=...)`, a no-op outside a request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import Metrics

HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_UNMATCHED = "<unmatched>"

access_log = logging.getLogger("service.access")


@dataclass(slots=True)
class RequestContext:
    request_id: str
    engine: str | None = None
    cached: bool | None = None


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def current_request_id() -> str | None:
    context = _current.get()
    return context.request_id if context is not None else None


def note_result(*, engine: str, cached: bool) -> None:
    """Record what served the current request (for its access log line)."""
    context = _current.get()
    if context is not None:
        context.engine, context.cached = engine, cached


def accepted_request_id(offered: str | None) -> str:
    """The caller's id when it is safe to echo and log, else a new one."""
    if offered is not None and _SAFE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else _UNMATCHED


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        context = RequestContext(accepted_request_id(offered))
        scope.setdefault("state", {})["request_id"] = context.request_id
        token = _current.set(context)
        status = 500  # when the app raises before it starts a response
        started = time.perf_counter()
        self.metrics.http_in_progress.inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((HEADER.encode(), context.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.http_in_progress.dec()
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.http_request(method, route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                _log_access(method, route, scope["path"], status, elapsed, context)
            _current.reset(token)


def _log_access(
    method: str, route: str, path: str, status: int, elapsed: float, context: RequestContext
) -> None:
    """`access_log.info(...)` without its search of the call stack for the caller's file and line, which no
    log line shows (the record's location is this function). It is one line per request, so it counts."""
    record = access_log.makeRecord(
        access_log.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %d %.1f ms",
        (method, route, status, elapsed * 1000),
        None,
        func=_log_access.__name__,
        extra={
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "latency_ms": round(elapsed * 1000, 2),
            "cached": context.cached,
            "engine": context.engine,
            "request_id": context.request_id,
        },
    )
    access_log.handle(record)
