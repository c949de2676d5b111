"""Request limits, enforced before any parsing: who may send a body (401, 429), its size (413) and how slowly it
arrives (408).

First `admit(request)` runs, before a byte of the body is read: the API key and the rate limit
(`service.api.deps.admit`), so a caller without a valid key, or out of tokens, costs neither a body read nor
a JSON parse.

`RequestLimits` is a pure ASGI middleware. It refuses a request whose `Content-Length` exceeds
`MAX_BODY_BYTES` without reading a byte of it; otherwise it reads the body itself, counting chunk by chunk (a
chunked upload has no `Content-Length`), and refuses it as soon as the count passes the limit or when the
whole body has not arrived within `MAX_BODY_WAIT_S` (a slow-loris upload). Only a complete body within
the limits reaches the application, replayed as one message. Refusals are problem+json and close the
connection, since the rest of the body is never read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import problems
from service.errors import InputTooLarge, SummarizerError

Admit = Callable[[Request], Awaitable[None]]


class _BodyTooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class _ClientGone(Exception):
    pass


def declared_length(scope: Scope) -> int | None:
    """The request's `Content-Length`, or None when absent or not a number (the stream count decides)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, body_timeout_s: float, admit: Admit | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.admit = admit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.admit is not None:
            try:
                await self.admit(Request(scope))
            except SummarizerError as e:  # the body is never read: the connection cannot be reused
                response = problems.error_response(e, Request(scope))
                response.headers["Connection"] = "close"
                await response(scope, receive, send)
                return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(f"the request body has {declared} bytes", declared, scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.body_timeout_s):
                body = await self._read_body(receive)
        except _BodyTooLarge as e:
            await self._too_large(
                f"the request body has more than {self.max_body_bytes} bytes", e.size, scope, receive, send
            )
            return
        except TimeoutError:
            await self._too_slow(scope, receive, send)
            return
        except _ClientGone:
            return  # nobody is left to answer
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                raise _BodyTooLarge(len(body))
            if not message.get("more_body", False):
                return bytes(body)

    async def _too_large(self, what: str, size: int, scope: Scope, receive: Receive, send: Send) -> None:
        error = InputTooLarge(
            f"{what}; the limit is {self.max_body_bytes}", limit=self.max_body_bytes, size=size
        )
        response = problems.error_response(error, Request(scope))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

    async def _too_slow(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem_response(
            problems.REQUEST_TIMEOUT,
            f"the request body did not arrive within {self.body_timeout_s:g} s",
            Request(scope),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the server's own messages (a later `http.disconnect`)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
