"""OpenAI's Batch API through the SDK's public `client.files` and `client.batches`: request files within the
API's limits, upload (`purpose="batch"`), one batch per file on `/v1/chat/completions` with a 24 h window,
polling with backoff, the output and error files, cancel.

Every call goes through the service's one retry policy (`Upstream.call`: transport errors, 429 and 5xx retried,
openai errors translated into `service.errors`). The poll's sleep is injected (the upstream's clock and sleep too): tests never wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from openai.types import Batch

from service.upstream import Sleep, Upstream

log = logging.getLogger("service.batch")

ENDPOINT: Final = "/v1/chat/completions"
COMPLETION_WINDOW: Final = "24h"
# The API's limits for one input file (OpenAI: 50,000 requests, 200 MB).
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
# Polling: the first wait, then twice as long each time up to the longest (a batch takes minutes to hours).
POLL_FIRST_S = 5.0
POLL_MAX_S = 300.0
TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
# An upload or download of up to 200 MB may take longer than a chat call: each try gets this long.
TRANSFER_TIMEOUT_S = 900.0


def request_line(custom_id: str, body: dict[str, Any]) -> bytes:
    """One line of a Batch API input file: the chat-completions `body` under its `custom_id`."""
    line = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
    return (json.dumps(line, ensure_ascii=False) + "\n").encode()


def split(
    lines: Iterable[bytes],
    *,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> Iterator[list[bytes]]:
    """The lines in files of at most `max_requests` lines and `max_bytes` bytes, in order (a single line
    over `max_bytes` goes alone: the API rejects it, as one failed request)."""
    part: list[bytes] = []
    size = 0
    for line in lines:
        if part and (len(part) == max_requests or size + len(line) > max_bytes):
            yield part
            part, size = [], 0
        part.append(line)
        size += len(line)
    if part:
        yield part


@dataclass(frozen=True, slots=True)
class Answered:
    """One line of an output or error file: the request's `custom_id`, and its response or its error."""

    custom_id: str
    status_code: int | None
    body: dict[str, Any] | None
    error_code: str | None


def parse_results(data: bytes) -> Iterator[Answered]:
    """The lines of a downloaded output or error file."""
    for raw in data.decode("utf-8", errors="replace").splitlines():
        try:
            line = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError:
            log.warning("batch: skipping a line of a result file that is not JSON")
            continue
        if not isinstance(line, dict):
            continue
        response = _object(line.get("response"))
        error = _object(line.get("error"))
        body, status = response.get("body"), response.get("status_code")
        yield Answered(
            str(line.get("custom_id")),
            status if isinstance(status, int) else None,
            body if isinstance(body, dict) else None,
            str(error["code"]) if error.get("code") else None,
        )


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class BatchApi:
    def __init__(
        self,
        upstream: Upstream,
        *,
        sleep: Sleep = asyncio.sleep,
        poll_first_s: float = POLL_FIRST_S,
        poll_max_s: float = POLL_MAX_S,
    ) -> None:
        self._upstream = upstream
        self._sleep = sleep
        self._poll_first_s = poll_first_s
        self._poll_max_s = poll_max_s

    async def aclose(self) -> None:
        await self._upstream.aclose()

    async def upload(self, path: Path) -> str:
        """Upload a request file with `purpose="batch"`; its file id."""
        content = await asyncio.to_thread(path.read_bytes)
        client = self._upstream.client
        uploaded = await self._upstream.call(
            lambda: client.files.create(
                file=(path.name, content), purpose="batch", timeout=TRANSFER_TIMEOUT_S
            ),
            deadline=self._upstream.deadline(2 * TRANSFER_TIMEOUT_S),
        )
        return uploaded.id

    async def create(self, file_id: str) -> Batch:
        client = self._upstream.client
        return await self._upstream.call(
            lambda: client.batches.create(
                input_file_id=file_id, endpoint=ENDPOINT, completion_window=COMPLETION_WINDOW
            ),
            deadline=self._upstream.deadline(),
        )

    async def retrieve(self, batch_id: str) -> Batch:
        client = self._upstream.client
        return await self._upstream.call(
            lambda: client.batches.retrieve(batch_id), deadline=self._upstream.deadline()
        )

    async def cancel(self, batch_id: str) -> Batch:
        client = self._upstream.client
        return await self._upstream.call(
            lambda: client.batches.cancel(batch_id), deadline=self._upstream.deadline()
        )

    async def download(self, file_id: str) -> bytes:
        """An output or error file's bytes."""
        client = self._upstream.client

        async def read() -> bytes:
            return (await client.files.content(file_id, timeout=TRANSFER_TIMEOUT_S)).content

        return await self._upstream.call(read, deadline=self._upstream.deadline(2 * TRANSFER_TIMEOUT_S))

    async def wait(self, batch_ids: list[str], *, on_poll: Any = None) -> list[Batch]:
        """Poll the batches until each is `completed`, `expired`, `failed` or `cancelled`; the first wait
        `poll_first_s`, doubling up to `poll_max_s`. `on_poll(batches)` sees each round of answers (the
        progress bar)."""
        interval = self._poll_first_s
        while True:
            batches = [await self.retrieve(batch_id) for batch_id in batch_ids]
            if on_poll is not None:
                on_poll(batches)
            if all(batch.status in TERMINAL for batch in batches):
                return batches
            log.info("batch: %s; next look in %.0f s", ", ".join(b.status for b in batches), interval)
            await self._sleep(interval)
            interval = min(self._poll_max_s, interval * 2)
