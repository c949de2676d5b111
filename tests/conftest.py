"""Shared fixtures: an isolated environment for every test, a fake engine, and an app client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from service.article import Article
from service.config import Settings
from service.engines.base import EngineResult
from service.engines.extractive import ExtractiveEngine
from service.errors import SummarizerError, Usage
from service.main import create_app
from service.schema import IncidentSummary, Statement
from tests.fakes.openai_server import FaultServer

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
_ENV_PREFIXES = (
    "SUMMARIZER_",
    "OPENAI_",
    "CACHE_",
    "API_KEYS",
    "SLACK_",
    "RATE_LIMIT",
    "MAX_",
    "LOG_LEVEL",
    "WEB_CONCURRENCY",
    "PROMPTS_DIR",
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's keys, endpoints or cache; each runs in its own directory (no `.env`)."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


def summary_data(**overrides: Any) -> dict[str, Any]:
    """A minimal summary as the JSON a model would send (one statement citing S1), `overrides` replacing
    whole fields."""
    data: dict[str, Any] = {
        "headline": "Incident report",
        "summary": [{"text": "An incident was reported.", "citations": ["S1"]}],
        "event_type": "other",
        "sub_event_type": None,
        "date": None,
        "locations": [],
        "actors": [],
        "casualties": [],
        "claims": [],
        "disputes": [],
    }
    return data | overrides


def sample_text(name: str) -> str:
    return (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")


def gold_records() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in (SAMPLES / "expected.jsonl").read_text().splitlines() if line.strip()
    ]


def minimal_summary(article: Article) -> IncidentSummary:
    """A grounded summary of any article: its first sentence, cited."""
    first = article.sentences[0]
    return IncidentSummary(
        headline=first.text[:120],
        summary=[Statement(text=first.text, citations=[first.id])],
        event_type="other",
        sub_event_type=None,
        date=None,
        locations=[],
        actors=[],
        casualties=[],
        claims=[],
        disputes=[],
    )


class FakeEngine:
    """An engine that answers from the article alone, counts its calls, and can wait or fail on demand."""

    name = "fake"
    model = "fake-1"

    def __init__(
        self,
        *,
        delay_s: float = 0.0,
        error: SummarizerError | None = None,
        build: Callable[[Article], IncidentSummary] = minimal_summary,
    ) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self.error = error
        self.build = build
        self.ready_error: Exception | None = None

    async def summarize(self, article: Article, *, deadline_s: float | None = None) -> EngineResult:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return EngineResult(self.build(article), attempts=1, usage=Usage(10, 5))

    async def check_ready(self) -> None:
        if self.ready_error is not None:
            raise self.ready_error

    async def aclose(self) -> None:
        return None


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def server() -> AsyncIterator[FaultServer]:
    """A fault-injecting OpenAI-compatible server on loopback (tests/fakes/openai_server.py), closed after."""
    async with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture(scope="session")
def extractive_engine() -> ExtractiveEngine:
    """One extractive engine, its gazetteer loaded, for the whole session: an app built per test would load it
    again (seconds each). Pass it as `app_client(settings, engine=extractive_engine)`."""
    engine = ExtractiveEngine()
    asyncio.run(engine.check_ready())
    return engine


@pytest.fixture
def app_client() -> AppClient:
    """`async with app_client(settings, engine=None) as client:` — the real app, lifespan run, over ASGI.

    `engine` replaces the configured engine (e.g. a FakeEngine); the app is reachable as `client.app`.
    `raise_app_exceptions=False` shows what a real server would send after an unhandled exception.
    """

    @asynccontextmanager
    async def open_client(
        settings: Settings | None = None, engine: Any = None, *, raise_app_exceptions: bool = True
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings or Settings(engine="extractive", cache_url="memory://"))
        if engine is not None:
            app.state.summarizer.engine = engine
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return open_client


@pytest.fixture
async def extractive_client(
    app_client: AppClient, extractive_engine: ExtractiveEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the session's extractive engine and the memory cache."""
    async with app_client(engine=extractive_engine) as client:
        yield client


# --- Redis: 127.0.0.1:6379 when it answers, else a throwaway redis-server; neither is a failure, not a skip ---


def redis_answers(port: int, host: str = "127.0.0.1") -> bool:
    """True when a Redis server answers PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """A `redis-server` this test session started: its port, and a way to stop it early."""

    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def throwaway_redis_server() -> Iterator[RedisProcess]:
    """A `redis-server` on a free loopback port that keeps nothing on disk."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("no Redis at 127.0.0.1:6379 and no redis-server to start (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = RedisProcess(port, subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        for _ in range(100):
            if redis_answers(port):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"redis-server did not answer on port {port} within 5 s")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a real Redis for this test session."""
    if redis_answers(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    with throwaway_redis_server() as server:
        yield f"redis://127.0.0.1:{server.port}/0"


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """`CACHE_URL` for one test: a real Redis with a key prefix of its own, whose keys are deleted after."""
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    yield f"{redis_server}?prefix={prefix}"
    client = redis.Redis.from_url(redis_server)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
