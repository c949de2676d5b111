"""uvicorn's httptools protocol with a bound on each request's head: its time and its size.

uvicorn closes a connection that stays idle after a response (`--timeout-keep-alive`), but not one that
never finishes sending a request head: a client that connects and sends nothing, or a header line every few
seconds, holds a connection (a file descriptor, a slot of `--limit-concurrency`) for as long as it likes.
`HeadLimitProtocol` closes a connection whose request head (request line and headers) is not complete within
`--timeout-keep-alive` seconds of the connection or of the previous response, or grows past
`--h11-max-incomplete-event-size` bytes (the limit uvicorn applies to h11 heads, applied here to httptools').

It overrides only the asyncio `Protocol` methods and the httptools parser callbacks (`on_message_begin`,
`on_headers_complete`), each calling uvicorn's own first. `incident-summarizer serve` runs uvicorn with it
(`http="service.http_protocol:HeadLimitProtocol"`).

`HttpToolsProtocol` is uvicorn's class, not a documented API: pyproject bounds uvicorn to the releases this
has run on, and `tests/test_deploy.py` (a real `serve` with idle, half-sent and oversized heads) fails on a
release that breaks it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("service.http")

DEFAULT_MAX_HEAD_BYTES = 16 * 1024


class HeadLimitProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._head_timeout_s = float(config.timeout_keep_alive)
        self._max_head_bytes = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self._head_transport: asyncio.BaseTransport | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._head_transport = transport  # uvloop's transports are not `asyncio.Transport` subclasses
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self._head_timer is not None
        if waiting:
            self._head_bytes += len(data)
        super().data_received(data)
        if waiting and self._head_timer is not None and self._head_bytes > self._max_head_bytes:
            self._close(f"its request head passed {self._max_head_bytes} bytes")

    # httptools parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._await_head()

    def on_headers_complete(self) -> None:
        self._head_done()
        super().on_headers_complete()

    # the head's bound

    def _await_head(self) -> None:
        self._head_done()
        self._head_bytes = 0
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(
            self._head_timeout_s, self._close, f"no complete request head within {self._head_timeout_s:g} s"
        )

    def _head_done(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _close(self, why: str) -> None:
        self._head_done()
        if self._head_transport is not None and not self._head_transport.is_closing():
            log.info("closing a connection: %s", why)
            self._head_transport.close()
