"""A fault-injecting OpenAI-compatible server on 127.0.0.1 (a free port), for tests and the load benchmark.

It serves `POST /v1/chat/completions` in OpenAI's exact wire format, records every request it receives, and plays
a scripted queue of behaviours (then a default one):

    async with FaultServer() as server:
        server.script(rate_limited(retry_after="0"), server_error(503), valid(summary))
        ... point the client at server.base_url ...
        assert server.calls == 3

Behaviours: an `Answer` (valid, invalid JSON, schema-invalid, ungrounded, cut off by the token limit, refused,
content-filtered), a `Fail` (429 with Retry-After, 500/502/503, 400, 401, ...), a `Drop` (connection reset
before any byte, or closed mid-response). Each may wait `delay_s` first (slow responses for timeouts), on top of
the server-wide `latency_s`.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from service.schema import IncidentSummary, Statement
from tests.fakes.loopback import LoopbackSite


@dataclass(frozen=True)
class Answer:
    """A 200 chat completion."""

    content: str | None
    finish_reason: str = "stop"
    refusal: str | None = None
    # (prompt, completion) tokens; None: estimated from the text at 4 characters a token
    usage: tuple[int, int] | None = None
    delay_s: float = 0.0


@dataclass(frozen=True)
class Fail:
    """An HTTP error with OpenAI's error body and optional retry hints."""

    status: int
    retry_after: str | None = None
    retry_after_ms: str | None = None
    delay_s: float = 0.0


@dataclass(frozen=True)
class Drop:
    """The connection dies: reset before any byte, or closed after the headers and part of the body."""

    mid_response: bool = False
    delay_s: float = 0.0


@dataclass(frozen=True)
class Raw:
    """Any HTTP answer, byte for byte: what a server that is not quite OpenAI-compatible sends (a web page, a
    body without `choices`, an error object with status 200, a usage block with fields missing)."""

    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    delay_s: float = 0.0


Behaviour = Answer | Fail | Drop | Raw
Responder = Callable[[dict[str, Any]], Behaviour]


# --- behaviours ------------------------------------------------------------------------------------------


def valid(summary: IncidentSummary, **kwargs: Any) -> Answer:
    return Answer(summary.model_dump_json(), **kwargs)


def invalid_json() -> Answer:
    return Answer('{"headline": "Shootout at a checkpoint", "summary": [{"text": "A patrol')


def schema_invalid() -> Answer:
    """JSON that breaks the schema: an unknown event type, no citations, a missing field."""
    return Answer(json.dumps({"headline": "Shootout", "summary": [{"text": "Shots.", "citations": []}],
                              "event_type": "war", "sub_event_type": None, "date": None, "locations": [],
                              "actors": [], "casualties": [], "claims": []}))  # fmt: skip


def ungrounded(summary: IncidentSummary) -> Answer:
    """The summary with a citation to a sentence the article does not have."""
    data = summary.model_dump(mode="json")
    data["summary"][0]["citations"] = ["S999"]
    return Answer(json.dumps(data))


def truncated(summary: IncidentSummary) -> Answer:
    text = summary.model_dump_json()
    return Answer(text[: len(text) // 2], finish_reason="length")


def refused(message: str = "I'm sorry, I can't help with that.") -> Answer:
    return Answer(None, refusal=message)


def content_filtered() -> Answer:
    return Answer(None, finish_reason="content_filter")


def completion_body(content: str, usage: dict[str, Any] | None) -> str:
    """A chat completion's JSON with `usage` as given (None: no usage block at all)."""
    return json.dumps({
        "id": "chatcmpl-raw", "object": "chat.completion", "created": 1, "model": "raw-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        **({"usage": usage} if usage is not None else {}),
    })  # fmt: skip


def rate_limited(retry_after: str | None = None, retry_after_ms: str | None = None) -> Fail:
    return Fail(429, retry_after=retry_after, retry_after_ms=retry_after_ms)


def server_error(status: int = 500, retry_after: str | None = None) -> Fail:
    return Fail(status, retry_after=retry_after)


def reset() -> Drop:
    return Drop(mid_response=False)


def closed_mid_response() -> Drop:
    return Drop(mid_response=True)


def slow(seconds: float, answer: Answer) -> Answer:
    return Answer(answer.content, answer.finish_reason, answer.refusal, answer.usage, delay_s=seconds)


_SENTENCE_LINE = re.compile(r"^\[(S[1-9][0-9]*)\] (.+)$", re.MULTILINE)


def first_sentence_summary(body: dict[str, Any]) -> IncidentSummary:
    """A grounded summary of whatever article the request carries: its first numbered sentence, cited."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    found = _SENTENCE_LINE.search(user)
    if found is None:
        raise ValueError("the request carries no numbered article sentences")
    sid, text = found.groups()
    return IncidentSummary(
        headline=text[:120], summary=[Statement(text=text, citations=[sid])], event_type="other",
        sub_event_type=None, date=None, locations=[], actors=[], casualties=[], claims=[], disputes=[],
    )  # fmt: skip


def answer_from_request(body: dict[str, Any]) -> Behaviour:
    """A default behaviour: a valid answer for any article."""
    return valid(first_sentence_summary(body))


def unscripted(body: dict[str, Any]) -> Behaviour:
    """The default default: a 400 that no retry repeats, so an unexpected extra call fails a test loudly."""
    return Fail(400)


def chat_completion(body: dict[str, Any], answer: Answer, completion_id: str) -> dict[str, Any]:
    """The chat completion OpenAI sends for the request `body` answered with `answer` (also the body of a Batch
    API output line: tests/fakes/openai_batch_server.py)."""
    if answer.usage is not None:
        prompt_tokens, completion_tokens = answer.usage
    else:
        prompt_tokens = sum(len(m.get("content") or "") for m in body["messages"]) // 4 + 1
        completion_tokens = len(answer.content or answer.refusal or "") // 4 + 1
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fault-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.content, "refusal": answer.refusal},
                "finish_reason": answer.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_faultserver",
    }


# --- the server ------------------------------------------------------------------------------------------


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_denied",
                404: "not_found_error", 422: "invalid_request_error", 429: "rate_limit_exceeded"}  # fmt: skip


class FaultServer:
    def __init__(self, *, latency_s: float = 0.0, default: Behaviour | Responder = unscripted) -> None:
        self.latency_s = latency_s
        self.default = default
        self.requests: list[Received] = []
        self._queue: deque[Behaviour] = deque()
        self._site = LoopbackSite()
        self._serial = 0

    # lifecycle
    async def __aenter__(self) -> FaultServer:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        # handler_cancellation: a slow answer stops when its client gives up (timeouts end promptly)
        await self._site.start(app, handler_cancellation=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._site.close()

    @property
    def base_url(self) -> str:
        return self._site.openai_base_url

    # scripting and inspection
    def script(self, *behaviours: Behaviour) -> None:
        self._queue.extend(behaviours)

    def clear(self) -> None:
        """Forget the behaviours still queued."""
        self._queue.clear()

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    # serving
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Received(body, dict(request.headers)))
        if self._queue:
            behaviour = self._queue.popleft()
        else:
            behaviour = self.default(body) if callable(self.default) else self.default
        await asyncio.sleep(self.latency_s + behaviour.delay_s)
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=499)  # the client gave up (timeout): nobody reads this
        if isinstance(behaviour, Answer):
            return web.json_response(self._completion(body, behaviour))
        if isinstance(behaviour, Fail):
            return self._error(behaviour)
        if isinstance(behaviour, Raw):
            return web.Response(
                status=behaviour.status, text=behaviour.body, content_type=behaviour.content_type
            )
        return await self._drop(request, behaviour)

    def _completion(self, body: dict[str, Any], answer: Answer) -> dict[str, Any]:
        self._serial += 1
        return chat_completion(body, answer, f"chatcmpl-fault{self._serial:06d}")

    @staticmethod
    def _error(fail: Fail) -> web.Response:
        headers = {}
        if fail.retry_after is not None:
            headers["Retry-After"] = fail.retry_after
        if fail.retry_after_ms is not None:
            headers["retry-after-ms"] = fail.retry_after_ms
        error = {
            "message": f"fault server: scripted HTTP {fail.status}",
            "type": _ERROR_TYPES.get(fail.status, "server_error"),
            "param": None,
            "code": None,
        }
        return web.json_response({"error": error}, status=fail.status, headers=headers)

    @staticmethod
    async def _drop(request: web.Request, drop: Drop) -> web.StreamResponse:
        transport = request.transport
        assert transport is not None
        if drop.mid_response:
            response = web.StreamResponse(
                headers={"Content-Type": "application/json", "Content-Length": "4096"}
            )
            await response.prepare(request)
            await response.write(b'{"id": "chatcmpl-cut", "object": "chat.completion", "choi')
            transport.close()
            return response
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends a TCP reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return web.Response(status=204)
