"""A TCP server on 127.0.0.1 (a free port) that accepts connections, reads what is sent, and never answers: a
Redis that hangs. It counts the connections it accepted and the bytes it read, so a test can tell how many
calls reached it, with no wall-clock measurement.

    async with HangingServer() as server:
        ... CACHE_URL=server.redis_url ...
        assert server.connections <= 3
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class HangingServer:
    def __init__(self) -> None:
        self.connections = 0
        self.bytes_read = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while chunk := await reader.read(65536):
                self.bytes_read += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass

    async def __aenter__(self) -> HangingServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
