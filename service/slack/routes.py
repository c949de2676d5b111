"""`POST /slack/events`: where Slack sends the slash command and the shortcut, handed to the bolt app.

Bolt checks each request's signature and timestamp (a forged or stale request gets 401). The router's lifespan
lets summaries still being written finish (or cancels them after `drain_timeout_s`) when the service stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

from service.config import Settings
from service.slack.app import SummarizerLike, build_slack_bot


def slack_router(
    settings: Settings, summarizer: SummarizerLike, *, drain_timeout_s: float = 10.0
) -> APIRouter:
    """The Slack endpoint and its lifespan; `create_app` includes it when SLACK_SIGNING_SECRET is set."""
    bot = build_slack_bot(settings, summarizer)
    handler = AsyncSlackRequestHandler(bot.app)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await bot.tasks.drain(drain_timeout_s)

    router = APIRouter(lifespan=lifespan)

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return router
