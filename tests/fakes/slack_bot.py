"""The Slack bot under test: a summarizer fake, settings pointing at the Slack API fake, an app with only the
Slack router (its lifespan run), and requests sent signed as Slack signs them. Shared by tests/test_slack*.py.

    async with FakeSlackApi(token=TOKEN) as slack:
        settings = bot_settings(slack)
        async with bot_client(settings, FakeSummarizer(settings)) as client:
            await send(client, command_body(ARTICLE, slack.response_url()))
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from service.article import ArticleIn, prepare
from service.cache.shared_flight import SharedLocks
from service.config import Settings
from service.metrics import Metrics
from service.result import SummaryResult
from service.slack.routes import slack_router
from tests.conftest import checkpoint_result
from tests.fakes import slack_api
from tests.fakes.slack_api import FakeSlackApi

SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TOKEN = "xoxb-test"


class FakeSummarizer:
    """The summarizer as the bot sees it. It prepares a text article for real (so input errors are the
    service's own; a `url` article is taken as fetched), waits until `release` is set when gated, then answers
    the checkpoint summary or raises `error`."""

    def __init__(self, settings: Settings, *, gated: bool = False, error: Exception | None = None) -> None:
        self.settings = settings
        self.error = error
        self.articles: list[ArticleIn] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False
        if not gated:
            self.release.set()

    async def summarize(self, article: ArticleIn, *, refresh: bool = False) -> SummaryResult:
        self.articles.append(article)
        self.started.set()
        prepared = None if article.url else prepare(article, max_chars=self.settings.max_article_chars)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return checkpoint_result(prepared)


def bot_settings(slack: FakeSlackApi, **overrides: Any) -> Settings:
    return Settings(
        engine="extractive",
        cache_url="memory://",
        slack_signing_secret=SECRET,
        slack_bot_token=TOKEN,
        slack_api_url=slack.api_url,
        **overrides,
    )


@asynccontextmanager
async def bot_client(
    settings: Settings,
    summarizer: Any,
    *,
    drain_timeout_s: float = 5.0,
    metrics: Metrics | None = None,
    shared: SharedLocks | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with only the Slack router, its lifespan run (leaving it drains the bot's background work)."""
    app = FastAPI()
    app.include_router(
        slack_router(settings, summarizer, drain_timeout_s=drain_timeout_s, metrics=metrics, shared=shared)
    )
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def signed(body: str, *, secret: str = SECRET, age_s: int = 0) -> dict[str, str]:
    return slack_api.signed(body, secret=secret, age_s=age_s)


async def send(client: httpx.AsyncClient, body: str, **signing: Any) -> httpx.Response:
    return await client.post("/slack/events", content=body, headers=signed(body, **signing))


def cited_ids(message: dict[str, Any]) -> list[str]:
    """The sentence ids in the message's block of cited sentences, in the order shown."""
    [sources] = [
        block
        for block in message["blocks"]
        if block["type"] == "context" and block["elements"][0]["text"].startswith("*S")
    ]
    listed = [element["text"].split(" ", 1)[0] for element in sources["elements"]]
    return [marker.strip("*") for marker in listed if marker.startswith("*S")]  # not the "+N more" line
