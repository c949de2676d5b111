"""A stand-in for OpenAI's Files and Batch endpoints on 127.0.0.1 (a free port), in OpenAI's wire format.

    async with BatchServer() as server:
        ... point the client at server.base_url ...
        assert len(server.creates) == 1

- `POST /v1/files` (multipart `file`, `purpose`), `GET /v1/files/{id}/content`;
- `POST /v1/batches` (checks the input file: purpose `batch`, endpoint `/v1/chat/completions`, window `24h`,
  every line `{custom_id, method: POST, url, body}` with unique custom ids), `GET /v1/batches/{id}`,
  `POST /v1/batches/{id}/cancel`;
- `POST /v1/chat/completions`, for the real-time repairs (recorded in `chats`).

Each retrieve moves a batch one step along its script: `validating` → `in_progress` → `completed` by default,
or ends `expired` (the first `answered` requests answered, the others in the error file with code
`batch_expired`), `failed` (no files; `errors.data`), or, after a cancel, `cancelling` → `cancelled` (the first
`answered` answered, the others nowhere). `request_counts` follow. Each request is answered by `responder(
custom_id, body)`: an `Answer` of the fault server (tests/fakes/openai_server.py) or a `LineError` (a line of the
error file). `fail_next(status)` makes the next request of any kind fail with that HTTP status (retries).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackSite
from tests.fakes.openai_server import Answer, answer_from_request, chat_completion


@dataclass(frozen=True)
class LineError:
    """A request of a batch that failed: a line of the error file with this HTTP status and error code."""

    status: int = 400
    code: str = "invalid_request"


LineBehaviour = Answer | LineError
BatchResponder = Callable[[str | None, dict[str, Any]], LineBehaviour]


def answer_every_request(custom_id: str | None, body: dict[str, Any]) -> LineBehaviour:
    """A valid answer for any article (its first sentence, cited)."""
    behaviour = answer_from_request(body)
    assert isinstance(behaviour, Answer)
    return behaviour


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    requests: list[dict[str, Any]]
    script: list[str]
    answered: int  # how many requests an expired or cancelled batch answered before it ended
    created_at: int = field(default_factory=lambda: int(time.time()))
    step: int = -1  # the first retrieve shows the script's first status
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


class BatchServer:
    def __init__(
        self,
        *,
        responder: BatchResponder = answer_every_request,
        script: tuple[str, ...] = ("validating", "in_progress", "completed"),
        answered: int | None = None,
    ) -> None:
        self.responder = responder
        self.script = script  # the statuses of the next batches created
        self.answered = answered  # of an expired or cancelled batch; None: half
        self.files: dict[str, tuple[str, bytes, str]] = {}  # id: (filename, content, purpose)
        self.batches: dict[str, FakeBatch] = {}
        self.uploads: list[str] = []
        self.creates: list[str] = []
        self.cancels: list[str] = []
        self.retrieves = 0
        self.chats: list[dict[str, Any]] = []
        self.reject_creates = 0  # the next creates answered 400
        self._faults: deque[int] = deque()
        self._serial = 0
        self._site = LoopbackSite()

    async def __aenter__(self) -> BatchServer:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._fault])
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{file_id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{batch_id}", self._retrieve)
        app.router.add_post("/v1/batches/{batch_id}/cancel", self._cancel)
        app.router.add_post("/v1/chat/completions", self._chat)
        await self._site.start(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._site.close()

    @property
    def base_url(self) -> str:
        return self._site.openai_base_url

    @contextmanager
    def in_thread(self) -> Iterator[BatchServer]:
        """The server on a loop of its own thread: for a test that runs the CLI (its own `asyncio.run`)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="batch-server", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.__aenter__(), loop).result(10)
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.__aexit__(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    def fail_next(self, *statuses: int) -> None:
        self._faults.extend(statuses)

    def requests_of(self, batch_id: str) -> list[dict[str, Any]]:
        """The request lines of a batch's input file."""
        return self.batches[batch_id].requests

    # --- serving ----------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial:05d}"

    @web.middleware
    async def _fault(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._faults:
            return _error(self._faults.popleft(), "fake batch server: scripted failure")
        response: web.StreamResponse = await handler(request)
        return response

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload, purpose = form.get("file"), str(form.get("purpose"))
        if not isinstance(upload, web.FileField):
            return _error(400, "no file")
        content = upload.file.read()
        file_id = self._store(upload.filename, content, purpose)
        self.uploads.append(file_id)
        return web.json_response(self._file(file_id))

    def _store(self, filename: str, content: bytes, purpose: str) -> str:
        file_id = self._id("file")
        self.files[file_id] = (filename, content, purpose)
        return file_id

    def _file(self, file_id: str) -> dict[str, Any]:
        filename, content, purpose = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "status": "processed"}  # fmt: skip

    async def _content(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return _error(404, "no such file")
        return web.Response(body=stored[1], content_type="application/octet-stream")

    async def _create(self, request: web.Request) -> web.Response:
        params = await request.json()
        if self.reject_creates:
            self.reject_creates -= 1
            return _error(400, "scripted rejection")
        stored = self.files.get(params.get("input_file_id", ""))
        if stored is None or stored[2] != "batch":
            return _error(400, "input_file_id must name a file uploaded with purpose=batch")
        if params.get("endpoint") != "/v1/chat/completions" or params.get("completion_window") != "24h":
            return _error(400, "endpoint /v1/chat/completions and completion_window 24h expected")
        requests = [json.loads(line) for line in stored[1].decode().splitlines() if line.strip()]
        ids = [r.get("custom_id") for r in requests]
        if len(set(ids)) != len(ids) or any(
            r.get("method") != "POST" or r.get("url") != "/v1/chat/completions" or "body" not in r
            for r in requests
        ):
            return _error(400, "every line needs a unique custom_id, method POST, the url and a body")
        answered = self.answered if self.answered is not None else len(requests) // 2
        batch = FakeBatch(self._id("batch"), params["input_file_id"], requests, list(self.script), answered)
        self.batches[batch.id] = batch
        self.creates.append(batch.id)
        return web.json_response(self._batch(batch))

    async def _retrieve(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return _error(404, "no such batch")
        self.retrieves += 1
        if batch.status not in {"completed", "expired", "failed", "cancelled"}:
            batch.step = min(batch.step + 1, len(batch.script) - 1)
            self._become(batch, batch.script[batch.step])
        return web.json_response(self._batch(batch))

    async def _cancel(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return _error(404, "no such batch")
        if batch.status in {"completed", "expired", "failed", "cancelled"}:
            return _error(400, f"cannot cancel a batch with status {batch.status}")
        self.cancels.append(batch.id)
        batch.script = [*batch.script[: batch.step + 1], "cancelling", "cancelled"]
        self._become(batch, "cancelling")
        return web.json_response(self._batch(batch))

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.chats.append(body)
        behaviour = self.responder(None, body)
        if isinstance(behaviour, LineError):
            return _error(behaviour.status, behaviour.code)
        return web.json_response(chat_completion(body, behaviour, self._id("chatcmpl")))

    # --- a batch's life -----------------------------------------------------------------------------

    def _become(self, batch: FakeBatch, status: str) -> None:
        batch.status = status
        if status == "failed":
            batch.errors = [{"code": "invalid_json_line", "message": "scripted failure", "line": 1}]
        elif status in {"completed", "expired", "cancelled"}:
            answered = len(batch.requests) if status == "completed" else batch.answered
            self._finish(batch, answered, missing_code="batch_expired" if status == "expired" else None)

    def _finish(self, batch: FakeBatch, answered: int, missing_code: str | None) -> None:
        outputs, errors = [], []
        for n, line in enumerate(batch.requests):
            custom_id = line["custom_id"]
            if n >= answered:
                if missing_code is not None:
                    errors.append({"id": self._id("batch_req"), "custom_id": custom_id, "response": None,
                                   "error": {"code": missing_code, "message": "not answered in time"}})  # fmt: skip
                continue
            behaviour = self.responder(custom_id, line["body"])
            if isinstance(behaviour, LineError):
                body = {
                    "error": {"message": "scripted", "type": "invalid_request_error", "code": behaviour.code}
                }
                response = {"status_code": behaviour.status, "request_id": self._id("req"), "body": body}
                errors.append({"id": self._id("batch_req"), "custom_id": custom_id, "response": response,
                               "error": None})  # fmt: skip
                continue
            completion = chat_completion(line["body"], behaviour, self._id("chatcmpl"))
            response = {"status_code": 200, "request_id": self._id("req"), "body": completion}
            outputs.append({"id": self._id("batch_req"), "custom_id": custom_id, "response": response,
                            "error": None})  # fmt: skip
        if outputs:
            batch.output_file_id = self._store("output.jsonl", _jsonl(outputs), "batch_output")
        if errors:
            batch.error_file_id = self._store("errors.jsonl", _jsonl(errors), "batch_output")

    def _batch(self, batch: FakeBatch) -> dict[str, Any]:
        total = len(batch.requests)
        if batch.status == "validating":
            done = 0
        elif batch.status in {"in_progress", "cancelling"}:
            done = total // 2
        else:
            done = total if batch.status == "completed" else min(batch.answered, total)
        failed = 0 if batch.status != "failed" else total
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "created_at": batch.created_at,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "request_counts": {"total": total, "completed": done, "failed": failed},
        }


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _error(status: int, message: str) -> web.Response:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    error = {"message": message, "type": kind, "param": None, "code": None}
    return web.json_response({"error": error}, status=status)
