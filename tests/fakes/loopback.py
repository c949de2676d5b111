"""An aiohttp application served on a free loopback port: the lifecycle the OpenAI fakes share."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class LoopbackSite:
    """`await site.start(app)` serves `app` on 127.0.0.1 (a free port) until `await site.close()`."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, app: web.Application, **runner_options: Any) -> None:
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, **runner_options)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def openai_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"
