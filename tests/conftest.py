"""Shared fixtures: an isolated environment for every test, a fake engine, and an app client."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from service.article import Article
from service.config import Settings
from service.engines.base import EngineResult
from service.errors import SummarizerError, Usage
from service.main import create_app
from service.schema import IncidentSummary, Statement

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
