"""Request limits: body size before parsing (declared and streamed), slow bodies, article and sentence limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.types import Message

from service.config import Settings
from service.limits import RequestLimits
from tests.conftest import PROBLEM_MEDIA_TYPE, AppClient, FakeEngine, assert_problem, build_app

LIMIT = 10_000


# --- the middleware on its own ------------------------------------------------------------------------


class EchoApp:
    """Answers with the length of the body it read; remembers whether it was called."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


class Peer:
    """The server side of one request: scripted body messages (with delays) and the messages sent back."""

    def __init__(self, chunks: list[bytes], *, delay_s: float = 0.0, disconnect: bool = False) -> None:
        self.messages: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]
        if disconnect:
            self.messages[-1] = {"type": "http.disconnect"}
        self.delay_s = delay_s
        self.received = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.received == len(self.messages):
            await asyncio.Event().wait()  # like a server: nothing more until the client goes away
        await asyncio.sleep(self.delay_s)
        self.received += 1
        return self.messages[self.received - 1]

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None

    def header(self, name: bytes) -> bytes | None:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return dict(start["headers"]).get(name)

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))
        return body


def http_scope(content_length: int | None = None) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/summaries",
        "headers": headers,
        "query_string": b"",
    }


async def run(peer: Peer, scope: dict[str, Any], *, timeout_s: float = 5.0) -> EchoApp:
    app = EchoApp()
    await RequestLimits(app, max_body_bytes=LIMIT, body_timeout_s=timeout_s)(scope, peer.receive, peer.send)
    return app


async def test_a_declared_oversize_body_is_refused_unread() -> None:
    peer = Peer([b"x" * (LIMIT + 1)])
    app = await run(peer, http_scope(content_length=LIMIT + 1))
    assert peer.status == 413 and peer.received == 0 and app.bodies == []
    body = peer.json()
    assert body["type"].endswith(":input-too-large") and body["limit"] == LIMIT
    assert str(LIMIT + 1) in body["detail"] and body["instance"] == "/v1/summaries"
    assert peer.header(b"connection") == b"close"
    assert peer.header(b"content-type") == PROBLEM_MEDIA_TYPE.encode()


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    """No Content-Length (chunked): counted chunk by chunk, and nothing after the limit is read."""
    peer = Peer([b"x" * 4000] * 10)
    app = await run(peer, http_scope())
    assert peer.status == 413 and app.bodies == []
    assert peer.received == 3  # 12,000 bytes > 10,000: the other seven chunks are never read


async def test_a_body_within_the_limits_reaches_the_app_whole() -> None:
    chunks = [b"a" * 3000, b"b" * 3000, b"c" * 4000]  # exactly the limit
    peer = Peer(chunks)
    app = await run(peer, http_scope())
    assert peer.status == 200 and app.bodies == [b"".join(chunks)]


async def test_a_trickling_body_times_out_with_408() -> None:
    peer = Peer([b"x"] * 100, delay_s=0.02)
    app = await run(peer, http_scope(content_length=100), timeout_s=0.2)
    assert peer.status == 408 and app.bodies == [] and peer.received < 20
    body = peer.json()
    assert body["type"].endswith(":request-timeout") and "0.2 s" in body["detail"]
    assert peer.header(b"connection") == b"close"


async def test_a_client_that_goes_away_gets_no_answer() -> None:
    peer = Peer([b"x" * 100, b""], disconnect=True)
    app = await run(peer, http_scope())
    assert peer.sent == [] and app.bodies == []


async def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await RequestLimits(app, max_body_bytes=LIMIT, body_timeout_s=1)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


# --- through the app ----------------------------------------------------------------------------------


def _settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"engine": "extractive", "cache_url": "memory://", "max_body_bytes": LIMIT}
    return Settings(**(base | overrides))


def _article(chars: int) -> dict[str, str]:
    sentence = "Gunmen attacked a checkpoint near the town on Monday. "
    return {"text": (sentence * (chars // len(sentence) + 1))[:chars]}


async def test_an_oversize_body_is_413_before_parsing(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(_settings(), engine=fake_engine) as client:
        declared = await client.post("/v1/summaries", json=_article(LIMIT))
        assert assert_problem(declared, 413, "input-too-large")["limit"] == LIMIT
        not_json = await client.post(
            "/v1/summaries", content=b"{" * (LIMIT + 1), headers={"content-type": "application/json"}
        )
        assert_problem(not_json, 413, "input-too-large")  # refused before the JSON parser saw it

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"text": "'
            for _ in range(20):
                yield b"Shelling hit the market. " * 40

        streamed = await client.post(
            "/v1/summaries", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "input-too-large")
        fine = await client.post("/v1/summaries", json=_article(LIMIT - 100))
        assert fine.status_code == 200
    assert fake_engine.calls == 1


async def test_a_slow_body_is_408(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(50):
            await asyncio.sleep(0.02)
            yield b"A patrol was ambushed. "
        yield b'"}'

    async with app_client(_settings(body_timeout_s=0.25), engine=fake_engine) as client:
        response = await client.post(
            "/v1/summaries", content=trickle(), headers={"content-type": "application/json"}
        )
    assert_problem(response, 408, "request-timeout")
    assert response.headers["connection"] == "close" and fake_engine.calls == 0


async def test_max_article_chars_is_413_for_text_and_html(
    app_client: AppClient, fake_engine: FakeEngine
) -> None:
    async with app_client(
        _settings(max_body_bytes=100_000, max_article_chars=5_000), engine=fake_engine
    ) as client:
        text = await client.post("/v1/summaries", json=_article(5_001))
        assert assert_problem(text, 413, "input-too-large")["limit"] == 5_000
        paragraphs = "".join(f"<p>{_article(400)['text']}</p>" for _ in range(13))
        html = f"<html><head><title>Attack</title></head><body><article>{paragraphs}</article></body></html>"
        assert 5_000 < len(html) < 100_000
        response = await client.post("/v1/summaries", json={"html": html})
        assert assert_problem(response, 413, "input-too-large")["limit"] == 5_000
        assert (await client.post("/v1/summaries", json=_article(4_999))).status_code == 200
    assert fake_engine.calls == 1


async def test_max_sentences_is_413_for_text_and_html(app_client: AppClient, fake_engine: FakeEngine) -> None:
    sentences = [f"Clash number {i} broke out in the village." for i in range(1, 13)]
    async with app_client(_settings(max_sentences=10), engine=fake_engine) as client:
        text = await client.post("/v1/summaries", json={"text": " ".join(sentences)})
        assert assert_problem(text, 413, "too-many-sentences")["limit"] == 10
        html = (
            "<html><body><article>" + "".join(f"<p>{s}</p>" for s in sentences) + "</article></body></html>"
        )
        assert_problem(await client.post("/v1/summaries", json={"html": html}), 413, "too-many-sentences")
        ok = await client.post("/v1/summaries", json={"text": " ".join(sentences[:10])})
        assert ok.status_code == 200 and len(ok.json()["sentences"]) == 10


# --- through a real server ----------------------------------------------------------------------------


@pytest.fixture
async def served(fake_engine: FakeEngine) -> AsyncIterator[tuple[str, int]]:
    """The app under uvicorn on 127.0.0.1 (a free port), for what only a real socket shows."""
    app = build_app(_settings(body_timeout_s=0.3), fake_engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, http="h11", ws="none", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done()
    port = server.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    server.should_exit = True
    await task


async def _exchange(host: str, port: int, head: bytes, body_chunks: list[bytes], pause_s: float) -> bytes:
    """Send the head, trickle the body, and read what the server answers until it closes the connection."""
    reader, writer = await asyncio.open_connection(host, port)

    async def trickle() -> None:
        writer.write(head)
        for chunk in body_chunks:
            await asyncio.sleep(pause_s)
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(trickle())
    try:
        return await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)  # a write after the server closed: expected
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def test_a_real_server_answers_a_slow_loris_with_408_and_closes(served: tuple[str, int]) -> None:
    host, port = served
    head = (
        b"POST /v1/summaries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n"
    )
    answer = await _exchange(host, port, head, [b"x"] * 200, pause_s=0.05)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"connection: close" in rest.lower() and b"request-timeout" in rest


async def test_a_real_server_refuses_a_declared_oversize_body_without_reading_it(
    served: tuple[str, int],
) -> None:
    host, port = served
    head = (
        b"POST /v1/summaries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\n\r\n"
    )
    answer = await _exchange(host, port, head, [], pause_s=0)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"input-too-large" in answer
