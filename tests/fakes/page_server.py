"""A news site on 127.0.0.1 (a free port), for `url` requests: real article pages from tests/data/html/ and
the samples, and the pages a fetcher must refuse or survive.

    async with PageServer() as pages:
        url = pages.url("/article/wordpress_checkpoint_clash.html")

Routes: `/article/{file}` (HTML from tests/data/html/), `/plain/{sample}` (a sample as text/plain),
`/redirect?to=URL` (302), `/image.png`, `/large?bytes=N` (chunked, no length), `/declared?bytes=N` (a
Content-Length of N), `/slow` (headers only when the server closes), `/status/{code}`, `/gzip?layers=N&bytes=M` (M bytes of HTML
gzipped N times, `Content-Encoding` naming each layer), `/charset/{name}` (a text page that declares it). Every request is
recorded with its `Host` header, so a test can see which name a connection to the pinned address carried.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

DATA = Path(__file__).resolve().parent.parent / "data"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class PageRequest:
    path: str
    host: str


class PageServer:
    """`tls`: serve https with this context (a certificate from `trustme`, for the pinning tests)."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self.requests: list[PageRequest] = []
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_get("/article/{name}", self._article)
        app.router.add_get("/plain/{name}", self._plain)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/image.png", self._image)
        app.router.add_get("/large", self._large)
        app.router.add_get("/declared", self._declared)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_get("/gzip", self._gzip)
        app.router.add_get("/charset/{name}", self._charset)
        app.middlewares.append(self._record)
        self._server = TestServer(app, host="127.0.0.1", scheme="https" if tls else "http")

    async def __aenter__(self) -> PageServer:
        await self._server.start_server(ssl=self._tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        await self._server.close()

    @property
    def port(self) -> int:
        port = self._server.port
        assert port is not None
        return port

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        return f"{'https' if self._tls else 'http'}://{host}:{self.port}{path}"

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.requests.append(PageRequest(request.path_qs, request.headers.get("Host", "")))
        return await handler(request)

    async def _article(self, request: web.Request) -> web.Response:
        page = (DATA / "html" / request.match_info["name"]).read_bytes()
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    async def _plain(self, request: web.Request) -> web.Response:
        text = (DATA / "samples" / f"{request.match_info['name']}.txt").read_text(encoding="utf-8")
        return web.Response(text=text, content_type="text/plain")

    async def _redirect(self, request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def _large(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        left = int(request.query["bytes"])
        chunk = b"<p>" + b"x" * 8_189 + b"</p>"
        try:
            while left > 0:
                await response.write(chunk[:left])
                left -= len(chunk)
        except (ConnectionResetError, ConnectionError):
            pass  # the fetcher stopped reading, as it should
        return response

    async def _declared(self, request: web.Request) -> web.Response:
        return web.Response(body=b"<p>" + b"x" * int(request.query["bytes"]), content_type="text/html")

    async def _slow(self, request: web.Request) -> web.Response:
        await self._closing.wait()
        return web.Response(text="too late", content_type="text/html")

    async def _status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="no", content_type="text/html")

    async def _gzip(self, request: web.Request) -> web.Response:
        body = b"<html><body><p>" + b"x" * int(request.query["bytes"]) + b"</p></body></html>"
        layers = int(request.query.get("layers", "1"))
        for _ in range(layers):
            body = gzip.compress(body, compresslevel=9)
        headers = {"Content-Encoding": ", ".join(["gzip"] * layers), "Content-Type": "text/html"}
        return web.Response(body=body, headers=headers)

    async def _charset(self, request: web.Request) -> web.Response:
        text = "Two soldiers were killed at a checkpoint on Monday, officials said."
        return web.Response(
            body=text.encode(), headers={"Content-Type": f"text/plain; charset={request.match_info['name']}"}
        )
